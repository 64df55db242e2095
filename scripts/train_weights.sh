#!/usr/bin/env bash
# Remake every file in weights/ with the project's own CLI, on the bundled training horses, on the CPU.
# Each run's metrics.jsonl and training curve are kept under docs/training/<name>/.
# Recipe: Adam with the learning rate annealed to zero on a cosine over the run, random horizontal flips and
# shifts of up to 4 pixels; kernel 3, 32 filters, our 24-colour file; seed 0.
# Super-resolution (--task superres): the same recipe with flips only (a shift would move the 4x4 blocks of the
# downsized input off their grid, which test images never do), and fewer epochs to fit a shared CPU.
#   bash scripts/train_weights.sh            # all seven
#   bash scripts/train_weights.sh cnn        # just one (unet, dunet, cnn, regression_cnn,
#                                            #   superres_cnn, superres_unet, superres_unet_mse)
set -euo pipefail
cd "$(dirname "$0")/.."
recipe=(-b 100 -s 0 --lr-schedule cosine --augment hflip,shift --device cpu)

train() {  # name, script, flags...
  local name=$1 script=$2; shift 2
  python "$script" "${recipe[@]}" "$@" --experiment-name "weights_$name" --checkpoint "weights/${name}_k3_f32.pkl"
  mkdir -p "docs/training/$name"
  cp "outputs/weights_$name/metrics.jsonl" "outputs/weights_$name/training_curve.png" "docs/training/$name/"
}

for name in unet dunet cnn regression_cnn superres_cnn superres_unet superres_unet_mse; do
  [ $# -eq 0 ] || [[ " $* " == *" $name "* ]] || continue
  case $name in
    unet) train unet colorization.py --model UNet -e 100 -l 3e-3 ;;
    dunet) train dunet colorization.py --model DUNet -e 100 -l 3e-3 ;;
    cnn) train cnn colorization.py --model CNN -e 60 -l 2e-3 ;;
    regression_cnn) train regression_cnn color_regression.py -e 30 -l 2e-3 ;;
    superres_cnn) train superres_cnn colorization.py --task superres --model CNN -e 8 -l 2e-3 --augment hflip ;;
    superres_unet) train superres_unet colorization.py --task superres --model UNet -e 12 -l 3e-3 --augment hflip ;;
    superres_unet_mse) train superres_unet_mse colorization.py --task superres --loss mse --model UNet -e 20 -b 25 \
      -l 2e-3 --augment hflip ;;
  esac
done
