#!/usr/bin/env bash
# The handout's augmentation question, answered by measurement: UNet trained with no augmentation, each
# augmentation alone, both flips and shifts, and with extra CIFAR-10 categories, all for the same number of
# optimizer steps (750 at batch 100: 15 epochs of 5000 horses, or 5 epochs of 15000 horses+deer+dogs).
# Prints a markdown table of the last epoch of each run (val loss and accuracy on the 1000 test horses).
#   CIFAR10=path/to/cifar10.npz bash scripts/augmentation_experiments.sh
set -euo pipefail
cd "$(dirname "$0")/.."
full_data=${CIFAR10:-../shared/data/cifar10.npz}
common=(--model UNet -b 100 -s 0 -l 3e-3 --lr-schedule cosine --device cpu)

run() {  # name, flags...
  local name=$1; shift
  python colorization.py "${common[@]}" "$@" --experiment-name "aug_$name" --overwrite > /dev/null
  python - "$name" "$*" <<'PY'
import json, sys
last = [json.loads(line) for line in open(f'outputs/aug_{sys.argv[1]}/metrics.jsonl')][-1]
print(f"| {sys.argv[1]} | `{sys.argv[2]}` | {last['val_loss']:.4f} | {last['val_acc']:.1f}% | {last['seconds']:.0f} |")
PY
}

echo '| run | flags (besides the common ones) | val loss | val acc | seconds |'
echo '|---|---|---|---|---|'
run none -e 15
run hflip -e 15 --augment hflip
run vflip -e 15 --augment vflip
run shift -e 15 --augment shift
run hflip_shift -e 15 --augment hflip,shift
run extra_deer_dog -e 5 --data "$full_data" --extra-categories deer,dog
