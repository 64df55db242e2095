#!/usr/bin/env bash
# The recipes of the UNet side by side: the assignment's 25 epochs, the fast recipe, and the fast recipe with each
# of its ingredients taken away in turn (what each is worth in accuracy and time), plus two more seeds of it.
# Writes docs/experiments/recipes.md (table) and recipes.png (validation loss per epoch), and
# docs/experiments/time_to_accuracy.png (validation accuracy against seconds, with the best recipe's two
# stages from docs/training/unet/).
#   bash scripts/experiments/recipes.sh                 # every setting in turn, from the repository root
#   sbatch scripts/experiments/recipes.sh               # one array task per setting (submit from the root)
#SBATCH --job-name=colorlib-recipes
#SBATCH --array=0-8
#SBATCH --cpus-per-task=2
#SBATCH --time=01:00:00
#SBATCH --output=slurm-%x-%A_%a.out
set -euo pipefail
cd "${SLURM_SUBMIT_DIR:-$(dirname "$0")/../..}"
source scripts/experiments/common.sh
fast="colorization.py --model UNet --recipe fast"
settings=(
  "assignment|colorization.py --model UNet --recipe assignment"
  "fast|$fast"
  "fast_no_amp|$fast --no-amp"
  "fast_no_warmup|$fast --warmup 0"
  "fast_constant_lr|$fast --lr-schedule constant"
  "fast_batch_100|$fast -b 100"
  "fast_lr_0.001|$fast -l 0.001"
  "fast_seed_1|$fast -s 1"
  "fast_seed_2|$fast -s 2"
)
run_experiment recipes "${settings[@]}"
[ -n "${SLURM_ARRAY_TASK_ID:-}" ] || python scripts/experiments/time_to_accuracy.py \
  "assignment (25 epochs)=docs/experiments/recipes/assignment.jsonl" "fast (3 epochs)=docs/experiments/recipes/fast.jsonl" \
  "best (60 epochs on all CIFAR-10, 100 on horses)=docs/training/unet/pretrain_metrics.jsonl+docs/training/unet/metrics.jsonl"
