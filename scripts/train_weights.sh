#!/usr/bin/env bash
# Remake every file in weights/ with the project's own CLI, on the bundled training horses, on the CPU.
# Each run's metrics.jsonl and training curve are kept under docs/training/<name>/.
# The flags of each run are its `best` recipe (colorlib/recipes.py): Adam with the learning rate annealed to zero
# on a cosine, seed 0, kernel 3, 32 filters, our 24-colour file; the classifiers also see random horizontal flips and
# shifts of up to 4 pixels (they overfit without them), the regression CNN does not (it underfits, and smaller
# batches help it more). The UNet, DUNet and CNN are pre-trained for 60 epochs on all of CIFAR-10, then fine-tuned on
# the horses (100, 40 and 50 epochs) with an average of the weights (--ema 0.999); the regression CNN is pre-trained
# for 15 epochs the same way, then fine-tuned for 40. Precision is the recipe's --amp auto: bfloat16 where the machine
# has bfloat16 arithmetic, float32 elsewhere (the shipped weights were made in bfloat16);
# the Lab UNet is Zhang's recipe (soft targets, rebalanced) for 5 epochs (docs/colour-spaces.md).
# Super-resolution (--task superres): flips only (a shift would move the 4x4 blocks of the downsized input off
# their grid, which test images never do), and fewer epochs to fit a shared CPU; the residual UNet (--residual: it
# learns what bicubic upsampling misses) is pre-trained for 25 epochs on all of CIFAR-10, then fine-tuned for 20.
# Figures can differ in the last digit with another thread count or torch build.
#   bash scripts/train_weights.sh            # all nine
#   bash scripts/train_weights.sh cnn        # just one (unet, dunet, cnn, unet_lab, regression_cnn,
#                                            #   superres_cnn, superres_unet, superres_unet_mse, superres_unet_res)
set -euo pipefail
cd "$(dirname "$0")/.."
common=(--recipe best --device cpu)  # the flags of each run are the `best` recipe's (colorlib/recipes.py)

# Some first learn from all 50,000 CIFAR-10 training images (the full data set: the official tarball, or
# CIFAR10=path/to/cifar10.npz), then are fine-tuned on the horses by their recipe.
CIFAR10=${CIFAR10:-data/cifar-10-python.tar.gz}

pretrain() {  # name, script, flags...: every CIFAR-10 class, no average of the weights, saved under outputs/
  local name=$1 script=$2; shift 2
  local data=(--data "$CIFAR10")
  [ -e "$CIFAR10" ] || data=(--download)  # the official tarball, fetched into data/ once
  python "$script" "$@" "${common[@]}" "${data[@]}" --extra-categories all --ema 0 \
    --experiment-name "weights_${name}_pretrain" --checkpoint "outputs/weights_${name}_pretrain.pkl" --overwrite
  mkdir -p "docs/training/$name"
  cp "outputs/weights_${name}_pretrain/metrics.jsonl" "docs/training/$name/pretrain_metrics.jsonl"
  cp "outputs/weights_${name}_pretrain/training_curve.png" "docs/training/$name/pretrain_training_curve.png"
}

train() {  # name, script, flags...: colorlib never writes a shipped file, so the run saves under outputs/ and the
  # new weights are copied over the shipped ones here, by this script, once the run has finished
  local name=$1 script=$2; shift 2
  python "$script" "$@" "${common[@]}" --experiment-name "weights_$name" --checkpoint "outputs/weights_${name}_k3_f32.pkl" \
    --overwrite
  cp "outputs/weights_${name}_k3_f32.pkl" "weights/${name}_k3_f32.pkl"
  mkdir -p "docs/training/$name"
  cp "outputs/weights_$name/metrics.jsonl" "outputs/weights_$name/training_curve.png" "docs/training/$name/"
}

for name in unet dunet cnn unet_lab regression_cnn superres_cnn superres_unet superres_unet_mse superres_unet_res; do
  [ $# -eq 0 ] || [[ " $* " == *" $name "* ]] || continue
  case $name in
    unet) pretrain unet colorization.py --model UNet -e 60 -l 3e-3
      train unet colorization.py --model UNet --init outputs/weights_unet_pretrain.pkl ;;
    dunet) pretrain dunet colorization.py --model DUNet -e 60 -l 3e-3
      train dunet colorization.py --model DUNet --init outputs/weights_dunet_pretrain.pkl ;;
    cnn) pretrain cnn colorization.py --model CNN -e 60 -l 3e-3
      train cnn colorization.py --model CNN --init outputs/weights_cnn_pretrain.pkl ;;
    unet_lab) train unet_lab colorization.py --model UNet --colour-space lab --soft-encode --rebalance 0.5 ;;
    regression_cnn) pretrain regression_cnn color_regression.py -e 15 -b 50 -l 2e-3
      train regression_cnn color_regression.py --init outputs/weights_regression_cnn_pretrain.pkl ;;
    superres_cnn) train superres_cnn colorization.py --task superres --model CNN ;;
    superres_unet) train superres_unet colorization.py --task superres --model UNet ;;
    superres_unet_mse) train superres_unet_mse colorization.py --task superres --loss mse --model UNet ;;
    superres_unet_res) pretrain superres_unet_res colorization.py --task superres --loss mse --residual --model UNet \
        -e 25 -l 0.002 -b 50
      train superres_unet_res colorization.py --task superres --loss mse --residual --model UNet \
        --init outputs/weights_superres_unet_res_pretrain.pkl ;;
  esac
done
