"""Visualise the activations of every layer of a trained model for one test image."""
from colorlib.cli.activations import main

if __name__ == '__main__':
    main()
