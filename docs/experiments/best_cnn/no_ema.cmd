python colorization.py --model CNN --recipe best --init outputs/weights_cnn_pretrain.pkl --ema 0 --experiment-name exp_best_cnn_no_ema --overwrite
