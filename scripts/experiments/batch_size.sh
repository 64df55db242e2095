#!/usr/bin/env bash
# The handout's batch-size question: the UNet trained for 5 epochs (EPOCHS=n for n) at batch sizes 10, 25, 50, 100, 200
# (learning rate 0.001 annealed to zero on a cosine over each run; smaller batches take more, noisier steps
# in the same epochs). Writes docs/experiments/batch_size.md (table) and batch_size.png (validation loss per
# epoch, one line per batch size).
#   bash scripts/experiments/batch_size.sh              # all five settings in turn, from the repository root
#   sbatch scripts/experiments/batch_size.sh            # one array task per setting (submit from the root)
# BATCH_SIZES="32 64" overrides the batch sizes (then set --array to match).
#SBATCH --job-name=colorlib-batch-size
#SBATCH --array=0-4
#SBATCH --cpus-per-task=2
#SBATCH --gres=gpu:1
#SBATCH --time=01:00:00
#SBATCH --output=slurm-%x-%A_%a.out
set -euo pipefail
cd "${SLURM_SUBMIT_DIR:-$(dirname "$0")/../..}"
source scripts/experiments/common.sh
settings=()
for batch in ${BATCH_SIZES:-10 25 50 100 200}; do
  settings+=("unet_b$batch|colorization.py --model UNet -e ${EPOCHS:-5} -b $batch -l 0.001 -s 0 --lr-schedule cosine")
done
run_experiment batch_size "${settings[@]}"
