python colorization.py --model CNN --recipe best --init outputs/weights_cnn_pretrain.pkl --no-amp --experiment-name exp_best_cnn_no_amp --overwrite
