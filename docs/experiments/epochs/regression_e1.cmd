python color_regression.py -e 1 -b 100 -l 0.001 -s 0 --lr-schedule cosine --experiment-name exp_epochs_regression_e1
