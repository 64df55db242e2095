python colorization.py --model CNN --recipe best --init outputs/weights_cnn_pretrain.pkl --label-smoothing 0.1 --experiment-name exp_best_cnn_label_smoothing_0.1 --overwrite
