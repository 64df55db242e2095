#!/usr/bin/env bash
# Remake every file in weights/ with the project's own CLI, on the bundled training horses, on the CPU.
# Each run's metrics.jsonl and training curve are kept under docs/training/<name>/.
# Recipe (found by the sweep in docs/experiments.md): Adam with cosine learning-rate annealing over 100 epochs,
# random horizontal flips and shifts of up to 4 pixels; kernel 3, 32 filters, our 24-colour file.
set -euo pipefail
cd "$(dirname "$0")/.."
recipe=(-e 100 -b 100 -s 0 --lr-schedule cosine --augment hflip,shift --device cpu)

train() {  # name, script, flags...
  local name=$1 script=$2; shift 2
  python "$script" "$@" "${recipe[@]}" --experiment-name "weights_$name" --checkpoint "weights/${name}_k3_f32.pkl"
  mkdir -p "docs/training/$name"
  cp "outputs/weights_$name/metrics.jsonl" "outputs/weights_$name/training_curve.png" "docs/training/$name/"
}

train unet colorization.py --model UNet -l 3e-3
train dunet colorization.py --model DUNet -l 3e-3
train cnn colorization.py --model CNN -l 2e-3
train regression_cnn color_regression.py -l 2e-3
