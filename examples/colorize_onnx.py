"""Colour a photo with a model from `colorlib export`, without torch or colorlib: onnxruntime, numpy and Pillow.

    python colorize_onnx.py model.onnx photo.jpg coloured.png [TILE]

Big photos go through in tiles of TILE pixels a side (default 512), each with the file's margin of context around
it, so memory stays that of one tile however big the photo; the margin covers the network's reach, so the seams
cannot show. Super-resolution models give a picture 4 times the size.
"""
import sys

import numpy as np
import onnxruntime
from PIL import Image, ImageOps


def colorize(session, image, tile=512):
    """(H, W, 3) RGB or (H, W, 1) grey uint8 -> RGB uint8, tile by tile."""
    meta = session.get_modelmeta().custom_metadata_map
    scale, multiple, margin = (int(meta[f'colorlib.{key}']) for key in ('scale', 'multiple', 'margin'))
    tile = -(-tile // multiple) * multiple  # tiles start on the network's pooling grid
    height, width = image.shape[:2]
    out = np.empty((height * scale, width * scale, 3), np.uint8)
    for top in range(0, height, tile):
        for left in range(0, width, tile):
            y0, x0 = max(top - margin, 0), max(left - margin, 0)
            window = np.ascontiguousarray(image[y0:top + tile + margin, x0:left + tile + margin])
            piece = session.run(None, {'image': window})[0]
            bottom, right = min(top + tile, height), min(left + tile, width)
            out[top * scale:bottom * scale, left * scale:right * scale] = piece[
                (top - y0) * scale:(bottom - y0) * scale, (left - x0) * scale:(right - x0) * scale]
    return out


def main(model, photo, output, tile=512):
    session = onnxruntime.InferenceSession(model, providers=['CPUExecutionProvider'])
    with Image.open(photo) as picture:
        picture = ImageOps.exif_transpose(picture)
        grey = picture.mode == 'L'
        image = np.asarray(picture if grey else picture.convert('RGB'))
    coloured = colorize(session, image[:, :, None] if grey else image, int(tile))
    with open(output, 'xb') as f:  # 'x': never over a file that is there
        Image.fromarray(coloured).save(f, format='PNG')


if __name__ == '__main__':
    main(*sys.argv[1:])
