"""Colourize CIFAR-10 images with a classification CNN, UNet or dilated UNet over k-means colours."""
from colorlib.cli.colorization import main

if __name__ == '__main__':
    main()
