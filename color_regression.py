"""Colourize CIFAR-10 images with the regression CNN (MSE on RGB)."""
from colorlib.cli.colorization import main_regression

if __name__ == '__main__':
    main_regression()
