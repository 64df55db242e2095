"""Colourize your own image files, any size, grey or colour, with a trained model (see README: "Colourize your own
photos"). Exit status: 0 all done, 1 some file skipped (each named on stderr), 2 bad flags or checkpoint."""
from colorlib.cli.colorize import main

if __name__ == '__main__':
    main()
