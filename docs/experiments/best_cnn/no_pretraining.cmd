python colorization.py --model CNN --recipe best --experiment-name exp_best_cnn_no_pretraining --overwrite
