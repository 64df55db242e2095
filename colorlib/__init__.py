"""colorlib: the CSC321/CSC421 colourization assignment as a small library (data, targets, models, training,
reports) with a thin command line on top (colorlib.cli)."""
__version__ = '0.1.0'
