#!/usr/bin/env bash
# docs/own-data.md: the shipped UNet fine-tuned on pictures it has never seen, at 64 pixels. The pictures are 96x96
# crops of scikit-image's sample photographs (astronaut, coffee, cat, rocket, Hubble deep field, a stained tissue
# sample): the left three quarters of each photograph give train/, the right quarter test/, so no test crop
# overlaps a training one. Prints the before and after figures and copies the sample grids to docs/own-data/.
#   bash scripts/own_data_example.sh            (needs scikit-image: pip install -e ".[test]")
set -euo pipefail
cd "$(dirname "$0")/.."
python - <<'PY'
from pathlib import Path
from PIL import Image
import skimage.data as samples
out = Path('outputs/own_data_pictures')
for name in ('astronaut', 'coffee', 'chelsea', 'rocket', 'hubble_deep_field', 'immunohistochemistry'):
    photo = getattr(samples, name)()
    height, width = photo.shape[:2]
    stride = 96 if name == 'hubble_deep_field' else 48
    for top in range(0, height - 95, stride):
        for left in range(0, width - 95, stride):
            split = 'train' if left + 96 <= 0.75 * width else 'test' if left >= 0.75 * width else None
            if split:
                (out / split).mkdir(parents=True, exist_ok=True)
                Image.fromarray(photo[top:top + 96, left:left + 96]).save(out / split / f'{name}_{top}_{left}.png')
print({split: len(list((out / split).iterdir())) for split in ('train', 'test')})
PY
data=(--model UNet --data outputs/own_data_pictures --image-size 64)
mkdir -p docs/own-data
python colorization.py "${data[@]}" --valid --checkpoint weights/unet_k3_f32.pkl
cp outputs/eval_UNet.png docs/own-data/before.png
python colorization.py "${data[@]}" --init weights/unet_k3_f32.pkl -e 10 -b 32 -l 0.001 --lr-schedule cosine \
  --augment hflip --amp auto --experiment-name own_data_unet --checkpoint outputs/own_data_unet.pkl --overwrite
python colorization.py "${data[@]}" --valid --checkpoint outputs/own_data_unet.pkl
cp outputs/eval_UNet.png docs/own-data/after.png
cp outputs/own_data_unet/metrics.jsonl outputs/own_data_unet/training_curve.png docs/own-data/
