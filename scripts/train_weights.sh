#!/usr/bin/env bash
# Remake every file in weights/ with the project's own CLI, on the bundled training horses, on the CPU.
# Each run's metrics.jsonl and training curve are kept under docs/training/<name>/.
# Recipe: Adam with the learning rate annealed to zero on a cosine over the run, seed 0, kernel 3, 32 filters,
# our 24-colour file; the classifiers also see random horizontal flips and shifts of up to 4 pixels (they
# overfit without them), the regression CNN does not (it underfits, and smaller batches help it more).
#   bash scripts/train_weights.sh            # all of them
#   bash scripts/train_weights.sh cnn        # just one (unet, dunet, cnn, regression_cnn)
set -euo pipefail
cd "$(dirname "$0")/.."
common=(-s 0 --lr-schedule cosine --device cpu)
classifier=(-b 100 --augment hflip,shift)

train() {  # name, script, flags...
  local name=$1 script=$2; shift 2
  python "$script" "$@" "${common[@]}" --experiment-name "weights_$name" --checkpoint "weights/${name}_k3_f32.pkl"
  mkdir -p "docs/training/$name"
  cp "outputs/weights_$name/metrics.jsonl" "outputs/weights_$name/training_curve.png" "docs/training/$name/"
}

for name in unet dunet cnn regression_cnn; do
  [ $# -eq 0 ] || [[ " $* " == *" $name "* ]] || continue
  case $name in
    unet) train unet colorization.py --model UNet -e 100 -l 3e-3 "${classifier[@]}" ;;
    dunet) train dunet colorization.py --model DUNet -e 100 -l 3e-3 "${classifier[@]}" ;;
    cnn) train cnn colorization.py --model CNN -e 100 -l 2e-3 "${classifier[@]}" ;;
    regression_cnn) train regression_cnn color_regression.py -e 40 -l 2e-3 -b 20 ;;
  esac
done
