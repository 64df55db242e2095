python colorization.py --model CNN --recipe best --init outputs/weights_cnn_pretrain.pkl --augment none --experiment-name exp_best_cnn_no_augment --overwrite
