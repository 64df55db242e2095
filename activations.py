"""Visualise the activations of every layer of a trained model for one test image."""
from colorlib.cli import main_activations

if __name__ == '__main__':
    main_activations()
