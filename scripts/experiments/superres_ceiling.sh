#!/usr/bin/env bash
# The yardstick for the super-resolution goal (scripts/experiments/superres_ceiling.py): a 620,000-parameter
# network built for 4x super-resolution, trained on the horses alone, then on all of CIFAR-10 and fine-tuned on the
# horses, as the shipped UNet was (with 6 epochs of pre-training, and again with 20); and the residual UNet with
# twice its filters. Each run's log (one JSON line an epoch: test PSNR and SSIM; for the UNet its metrics.jsonl,
# and its --valid output in unet_f64.valid.txt) and command go to docs/experiments/superres_ceiling/<name>.{jsonl,cmd};
# the weights to outputs/. About 75 minutes on 2 cores; `bash scripts/experiments/superres_ceiling.sh horses` runs
# one (names below).
#   bash scripts/experiments/superres_ceiling.sh       # from anywhere; needs ../shared/data/cifar10.npz
set -euo pipefail
cd "$(dirname "$0")/../.."
out=docs/experiments/superres_ceiling only=${1:-}
names=(horses all_cifar10 fine_tuned all_cifar10_long fine_tuned_long unet_f64)
if [ -n "$only" ] && [[ " ${names[*]} " != *" $only "* ]]; then
  echo "no run named $only (${names[*]})" >&2
  exit 2
fi
mkdir -p "$out"
chosen() { [ -z "$only" ] || [ "$1" = "$only" ]; }
run() {  # name, script flags...
  local name=$1; shift
  chosen "$name" || return 0
  local command="python scripts/experiments/superres_ceiling.py $*"
  echo "$name: $command"
  echo "$command" > "$out/$name.cmd"
  $command | tee "$out/$name.jsonl"
}
run horses --epochs 20
run all_cifar10 --data ../shared/data/cifar10.npz --all-categories --epochs 6 --batch-size 50 \
  --save outputs/superres_ceiling_all.pt --overwrite
run fine_tuned --init outputs/superres_ceiling_all.pt --epochs 10 --learn-rate 5e-4 \
  --save outputs/superres_ceiling_fine_tuned.pt --overwrite
run all_cifar10_long --data ../shared/data/cifar10.npz --all-categories --epochs 20 --batch-size 50 \
  --save outputs/superres_ceiling_all_long.pt --overwrite
run fine_tuned_long --init outputs/superres_ceiling_all_long.pt --epochs 10 --learn-rate 5e-4 \
  --save outputs/superres_ceiling_fine_tuned_long.pt --overwrite
if chosen unet_f64; then
  command="python colorization.py --task superres --loss mse --residual --model UNet -f 64 -e 20 -b 25 -l 0.002
    --amp auto -s 0 --lr-schedule cosine --augment hflip --experiment-name exp_superres_unet_f64 --overwrite"
  echo "unet_f64: $command"
  $command
  cp outputs/exp_superres_unet_f64/metrics.jsonl "$out/unet_f64.jsonl"
  valid="python colorization.py --task superres --loss mse --residual --model UNet -f 64
    --checkpoint outputs/exp_superres_unet_f64/weights.pkl --valid"
  echo $command > "$out/unet_f64.cmd"
  echo $valid >> "$out/unet_f64.cmd"
  $valid | tee "$out/unet_f64.valid.txt"
fi
