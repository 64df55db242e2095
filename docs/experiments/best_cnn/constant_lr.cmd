python colorization.py --model CNN --recipe best --init outputs/weights_cnn_pretrain.pkl --lr-schedule constant --experiment-name exp_best_cnn_constant_lr --overwrite
