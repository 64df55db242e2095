#!/usr/bin/env bash
# The handout's question "what does training longer buy?": the RegressionCNN and the UNet trained for 1, 5
# and 15 epochs (batch 100, learning rate 0.001 annealed to zero on a cosine over each run, so every epoch
# count is a finished run of its own rather than a prefix of the longest). Writes docs/experiments/epochs.md
# (table) and epochs.png (validation loss per epoch, one line per setting).
#   bash scripts/experiments/epochs.sh                  # all six settings in turn, from the repository root
#   sbatch scripts/experiments/epochs.sh                # one array task per setting (submit from the root)
# EPOCHS="1 5 25 50" overrides the epoch counts (then set --array=0-M, M = 2 x the number of counts - 1).
#SBATCH --job-name=colorlib-epochs
#SBATCH --array=0-5
#SBATCH --cpus-per-task=2
#SBATCH --gres=gpu:1
#SBATCH --time=01:00:00
#SBATCH --output=slurm-%x-%A_%a.out
set -euo pipefail
cd "${SLURM_SUBMIT_DIR:-$(dirname "$0")/../..}"
source scripts/experiments/common.sh
common="-b 100 -l 0.001 -s 0 --lr-schedule cosine"
settings=()
for epochs in ${EPOCHS:-1 5 15}; do settings+=("regression_e$epochs|color_regression.py -e $epochs $common"); done
for epochs in ${EPOCHS:-1 5 15}; do settings+=("unet_e$epochs|colorization.py --model UNet -e $epochs $common"); done
run_experiment epochs "${settings[@]}"
