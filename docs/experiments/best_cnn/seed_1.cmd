python colorization.py --model CNN --recipe best --init outputs/weights_cnn_pretrain.pkl -s 1 --experiment-name exp_best_cnn_seed_1 --overwrite
