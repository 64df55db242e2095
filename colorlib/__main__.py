"""python -m colorlib: the same as the colorlib command."""
from colorlib.cli import main

main()
