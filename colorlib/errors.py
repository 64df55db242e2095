"""The one exception type for mistakes a user can fix from the command line."""


class UsageError(Exception):
    """A bad flag, file or value. The CLI prints the message on one line and exits with status 2."""
