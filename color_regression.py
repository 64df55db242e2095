"""Colourize CIFAR-10 images with the regression CNN (MSE on RGB)."""
from colorlib.cli import main

if __name__ == '__main__':
    main(regression=True)
