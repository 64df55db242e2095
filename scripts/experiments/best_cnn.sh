#!/usr/bin/env bash
# The best recipe of the CNN with each of its ingredients taken away in turn (what each is worth in accuracy and
# time), plus label smoothing, which it does not use, and another seed (how far apart two runs of it fall). Every
# setting fine-tunes the CNN pre-trained on all of CIFAR-10 by `bash scripts/train_weights.sh cnn`
# (outputs/weights_cnn_pretrain.pkl), except no_pretraining, which trains the same recipe from scratch on the
# horses; the row "best" is that script's own run (docs/training/cnn/).
# Writes docs/experiments/best_cnn.md (table) and best_cnn.png (validation loss per epoch).
#   bash scripts/experiments/best_cnn.sh                # every setting in turn, from the repository root
#   sbatch scripts/experiments/best_cnn.sh              # one array task per setting (submit from the root)
#SBATCH --job-name=colorlib-best-cnn
#SBATCH --array=0-6
#SBATCH --cpus-per-task=2
#SBATCH --time=01:00:00
#SBATCH --output=slurm-%x-%A_%a.out
set -euo pipefail
cd "${SLURM_SUBMIT_DIR:-$(dirname "$0")/../..}"
source scripts/experiments/common.sh
best="colorization.py --model CNN --recipe best"
init="--init outputs/weights_cnn_pretrain.pkl"
mkdir -p docs/experiments/best_cnn
cp docs/training/cnn/metrics.jsonl docs/experiments/best_cnn/best.jsonl
echo "bash scripts/train_weights.sh cnn" > docs/experiments/best_cnn/best.cmd
rows_first=(best)
settings=(
  "no_pretraining|$best"
  "no_ema|$best $init --ema 0"
  "no_augment|$best $init --augment none"
  "constant_lr|$best $init --lr-schedule constant"
  "no_amp|$best $init --no-amp"
  "label_smoothing_0.1|$best $init --label-smoothing 0.1"
  "seed_1|$best $init -s 1"
)
run_experiment best_cnn "${settings[@]}"
