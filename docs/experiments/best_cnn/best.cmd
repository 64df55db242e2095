bash scripts/train_weights.sh cnn
