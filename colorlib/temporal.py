"""Colour the frames of a film with steady colours, holding only a few frames at a time.

colour_frames(model, frames) takes any iterable of (H, W, 3) RGB frames (a decoder's, a list) and yields coloured
uint8 RGB frames of the same size, lazily, so a pipeline can decode, colour and encode a long film with bounded
memory. temporal=False colours each frame alone, exactly as Model.colorize does.

Why the colours flicker, and the method. The network sees each frame alone, so a small change of the grey picture
(noise, compression, a shift of a pixel) moves its colour choice: frame by frame the colours change about twice as
much from one frame to the next as the true colours do. Two causes, each with its remedy:

  - the network's colour choice wavers where the picture is steady: averaged along the motion (steps 2-4);
  - its chroma has a fine texture the true colours lack (a street's ab changes 3.5 times as much from one pixel to
    the next as the truth's does), and as the camera moves that texture moves with it: even colours carried along
    the motion perfectly then change at every pixel from one frame to the next. Step 1 takes it away.

  1. space: the network's chroma is fitted, in a window of RADIUS of the picture's side around each pixel, as a
     linear function of the lightness (the local linear model of Levin et al.'s colourization, computed as He et
     al.'s guided filter): colour edges stay where the lightness has edges, the texture in between goes. Colour
     that moves changes at each pixel in proportion to its speed and its own detail, so where the picture moves fast
     (the flow of step 2; half way at FAST of the side a frame) the fit is blended towards a wider, smoother one
     (SMOOTH_RADIUS, SMOOTH_EPS); where it is still, the detail stays;
  2. motion: dense optical flow from each grey frame back to the previous one, by coarse-to-fine Lucas-Kanade on
     the grey frames at a reduced size (at most FLOW_SIDE pixels a side; a few small convolutions, no OpenCV);
  3. confidence: the previous grey frame warped along that flow is compared with this one; where they differ (a
     moving thing the flow missed, something uncovered, the edge of the picture) the carried chroma gets no weight,
     so moving things are not smeared and no ghost is left behind;
  4. blend: chroma = network's + CARRY * confidence * (carried - network's): an exponential average along the
     motion, which cancels the network's frame-to-frame noise where the picture is steady and follows the network
     where it truly changes. The carried chroma is resampled bicubically, since a bilinear warp every frame would
     blur it more and more;
  5. saturation: averages of wavering hues are greyer than each of them, so the result is scaled to the network's
     mean saturation |ab| (itself averaged over frames, so the scale does not flicker): the picture stays as
     colourful as the network made it;
  6. cuts: where the previous frame, carried along the flow, matches less than MATCHED of this one (step 3's
     confidence over the picture) or the size changes, the estimate starts afresh from the network's, so a new scene
     takes its own colours at once, even where its lightness happens to be the old scene's. (A rule on the grey
     histograms, tried before, missed two of the four cuts of bench/video_quality.py's clips: two street scenes
     have much the same.)

All of this runs at the reduced size; a larger frame gets the chroma back at full size by the same local linear fit
to its own lightness (the fit's coefficients scaled up, He and Sun's fast guided filter), and the lightness is always
the input frame's, so the result is as sharp as frame by frame.
Figures: bench/video_quality.py, docs/video.md.
"""
import os

import torch
import torch.nn.functional as F

from colorlib.resample import upsample_rows
from colorlib.errors import check_flag, check_whole
from colorlib.images import as_uint8
from colorlib.lab import from_f, lightness_from, luminance_of, xyz_to_uint8
from colorlib.stages import in_order

WORK_SIDE = 320  # the carried chroma at most this many pixels a side
FLOW_SIDE = 160  # the flow at most this many: finer changed no figure of bench/video_quality.py, at four times the cost
CARRY = 0.93  # weight of the carried chroma where the picture is steady: it remembers about 1 / (1 - CARRY) frames
RESIDUAL = 8.0  # lightness difference (L, 0-100) at which the warped previous frame keeps about a third of its weight
MATCHED = 0.5  # the mean confidence (0-1) under which a frame is a new scene: the bench clips' cuts 0.1-0.4, others 0.7+
SAMPLING = 'bicubic'  # the carried chroma is resampled every frame: bilinear would blur it frame after frame
RADIUS = 0.05  # the window of the chroma's local linear fit to the lightness, a share of the picture's longer side
EPS = 0.01  # its regularization (lightness 0-1, squared): lightness edges weaker than about 0.1 do not hold colour
SMOOTH_RADIUS, SMOOTH_EPS = 0.1, 0.05  # the fit where the picture moves fast: wider, and only strong edges hold colour
FAST = 0.0125  # the speed (a share of the picture's longer side a frame) at which the two fits weigh the same
MAX_BOOST = 2.0  # the most the saturation may scale the steadied chroma by


def check_frame(index, frame):
    """One frame as colour_frames takes it: (H, W, 3) RGB, uint8 or float 0-1 (images.as_uint8)."""
    return as_uint8(frame, f'frames[{index}]', ndim=3)


def box_mean(x, radius):
    """Mean over the (2 radius + 1)^2 window around each pixel of (N, C, H, W), edges replicated: a running sum
    along the rows, then along the columns, whatever the radius costs the same (torch's avg_pool2d on the CPU costs
    ten times as much at a radius of 4). In float32, the sums of a few hundred pixels are off by about 1e-6 of a
    pixel's value: far below the fit's EPS."""
    k = 2 * radius + 1
    x = F.pad(x, (radius + 1, radius, radius + 1, radius), mode='replicate').cumsum(-1)
    x = (x[..., k:] - x[..., :-k]).cumsum(-2)
    return (x[..., k:, :] - x[..., :-k, :]) / (k * k)


def local_linear_fit(guide, x, radius, eps):
    """The coefficients (a, b) of x ~ a * guide + b fitted in the window around each pixel and averaged over the
    windows covering it (He et al.'s guided filter): guide (N, 1, H, W), x (N, C, H, W)."""
    channels = x.shape[1]
    means = box_mean(torch.cat([guide, x, guide * guide, guide * x], 1), radius)  # one pass for the four means
    mean_guide, mean_x, mean_square, mean_product = means.split([1, channels, 1, channels], 1)
    a = (mean_product - mean_guide * mean_x) / (mean_square - mean_guide ** 2 + eps)
    b = mean_x - a * mean_guide
    return box_mean(torch.cat([a, b], 1), radius).split(channels, 1)


def warp(image, flow, mode='bilinear'):
    """image (N, C, H, W) sampled at each pixel plus flow (N, 2, H, W) (x, y in pixels), and a (N, 1, H, W) mask
    of where that falls inside the image."""
    n, _, height, width = image.shape
    ys, xs = torch.meshgrid(torch.arange(height, dtype=image.dtype), torch.arange(width, dtype=image.dtype),
                            indexing='ij')
    x, y = xs + flow[:, 0], ys + flow[:, 1]
    grid = torch.stack([(2 * x + 1) / width - 1, (2 * y + 1) / height - 1], dim=-1)
    inside = ((x >= -0.5) & (x <= width - 0.5) & (y >= -0.5) & (y <= height - 0.5))[:, None].to(image.dtype)
    return F.grid_sample(image, grid, mode=mode, padding_mode='border', align_corners=False), inside


def gradients(image):
    """Central differences (x, y) of (N, 1, H, W)."""
    padded = F.pad(image, (1, 1, 1, 1), mode='replicate')
    return ((padded[..., 1:-1, 2:] - padded[..., 1:-1, :-2]) / 2, (padded[..., 2:, 1:-1] - padded[..., :-2, 1:-1]) / 2)


@torch.no_grad()
def optical_flow(current, previous, levels=4, iterations=3, window=9, damping=1e-3):
    """Flow (N, 2, H, W) from `current` back to `previous` (grey (N, 1, H, W), 0-1): previous(x + flow(x)) is
    current(x). Coarse-to-fine Lucas-Kanade: at each level of a pyramid the brightness constancy equation is solved
    over a window around each pixel, a few times, warping `previous` by the flow so far; `damping` keeps flat
    regions (no gradient) near the flow around them."""
    pyramid = [(current, previous)]
    for _ in range(levels - 1):
        c, p = pyramid[-1]
        if min(c.shape[-2:]) < 16:
            break
        pyramid.append((F.avg_pool2d(c, 2), F.avg_pool2d(p, 2)))
    flow = None
    for c, p in reversed(pyramid):
        if flow is None:
            flow = torch.zeros(c.shape[0], 2, *c.shape[-2:], dtype=c.dtype)
        else:
            flow = 2 * F.interpolate(flow, size=c.shape[-2:], mode='bilinear', align_corners=False)
        for _ in range(iterations):
            warped, _ = warp(p, flow)
            gx, gy = gradients((warped + c) / 2)
            dt = c - warped
            sums = box_mean(torch.cat([gx * gx, gx * gy, gy * gy, gx * dt, gy * dt], 1), window // 2)
            xx, xy, yy, xt, yt = sums.split(1, 1)
            xx, yy = xx + damping, yy + damping
            det = xx * yy - xy * xy
            # previous(x + f + d) ~ warped + g.d = current  =>  (sum g g^T) d = sum g dt
            du, dv = (yy * xt - xy * yt) / det, (xx * yt - xy * xt) / det
            flow = flow + box_mean(torch.cat([du, dv], 1), 1)
    return flow


def saturation_of(chroma):
    """The mean |ab| of (1, 2, h, w) chroma (torch.hypot: Tensor.norm over the channels costs a hundred times
    as much on the CPU)."""
    return torch.hypot(chroma[:, 0], chroma[:, 1]).mean()


def work_size(height, width, side=WORK_SIDE):
    scale = min(1.0, side / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def coarse_flow(current, previous):
    """optical_flow between two grey frames (N, 1, H, W) estimated at most FLOW_SIDE pixels a side and scaled up to
    theirs: the carried chroma is smooth (the fit's window is RADIUS of the picture), so the finest level of the
    pyramid, three quarters of the cost, changed nothing the fit keeps."""
    size = work_size(*current.shape[-2:], FLOW_SIDE)
    if size == tuple(current.shape[-2:]):
        return optical_flow(current, previous)
    flow = optical_flow(F.interpolate(current, size=size, mode='area'), F.interpolate(previous, size=size, mode='area'),
                        levels=3)
    scale = torch.tensor([current.shape[-1] / size[1], current.shape[-2] / size[0]]).view(1, 2, 1, 1)
    return F.interpolate(flow, size=current.shape[-2:], mode='bilinear', align_corners=False) * scale


def fitted(grey, chroma, speed=None):
    """The chroma (N, 2, h, w) as a local linear function of the grey (N, 1, h, w) (step 1), at each pixel's speed
    (N, 1, h, w, pixels a frame; None: still): RADIUS's fit where still, blended towards SMOOTH_RADIUS's as it moves."""
    side = max(grey.shape[-2:])
    a, b = local_linear_fit(grey, chroma, max(1, round(RADIUS * side)), EPS)
    sharp = a * grey + b
    if speed is None:
        return sharp
    a, b = local_linear_fit(grey, chroma, max(1, round(SMOOTH_RADIUS * side)), SMOOTH_EPS)
    return sharp + speed / (speed + FAST * side) * (a * grey + b - sharp)


class Steady:
    """The running chroma of colour_frames' temporal mode: one frame in (lightness, the network's chroma), the
    steadied chroma out. It holds the previous frame's grey and chroma at the reduced size, nothing more."""

    def __init__(self):
        self.grey = self.chroma = self.saturation = None

    def carried(self, grey):
        """The previous frame's chroma carried along the flow to `grey`, the confidence in it (step 3) and the speed
        of each pixel (pixels a frame), each (1, C, h, w); None for the first frame or a new size."""
        if self.grey is None or self.grey.shape != grey.shape:
            return None
        flow = coarse_flow(grey, self.grey)
        carried, inside = warp(self.chroma, flow, SAMPLING)
        previous, _ = warp(self.grey, flow)
        residual = box_mean((100 * (grey - previous)).abs(), 2)
        return carried, inside * torch.exp(-(residual / RESIDUAL) ** 2), torch.hypot(flow[:, :1], flow[:, 1:])

    @torch.no_grad()
    def __call__(self, lightness, chroma):
        """lightness (H, W) in L units (0-100) and the network's chroma (2, h, w) at any size -> the steadied chroma
        as a local linear function of the lightness, (a, b), each (1, 2, h', w') at the reduced size: the chroma
        at full size is a * L / 100 + b, a and b scaled up (paint does it)."""
        size = work_size(*lightness.shape)
        grey = F.interpolate(lightness[None, None] / 100, size=size, mode='area')
        down = chroma.shape[-2] >= size[0] and chroma.shape[-1] >= size[1]
        small = F.interpolate(chroma[None], size=size, mode='area' if down else 'bilinear', align_corners=None)
        saturation, carried = saturation_of(small), self.carried(grey)
        if carried is None or carried[1].mean().item() < MATCHED:  # the first frame, a new size, a new scene
            state = fitted(grey, small)
        else:
            carried, confidence, speed = carried
            network = fitted(grey, small, speed)
            state = network + CARRY * confidence * (carried - network)
            saturation = saturation + CARRY * (self.saturation - saturation)
        self.grey, self.chroma, self.saturation = grey, state, saturation
        steadied = state * (saturation / saturation_of(state).clamp(min=1e-3)).clamp(max=MAX_BOOST)
        if size == tuple(lightness.shape):
            return torch.zeros_like(steadied), steadied
        # for the full size: the steadied chroma fitted to the small lightness (He and Sun's fast guided filter)
        return local_linear_fit(grey, steadied, 1, EPS / 10)


def paint(lightness, luminance, a, b, chunk=2 ** 18):
    """The (H, W, 3) uint8 RGB frame of the lightness (H, W) (L, and CIE Y, as lab.luminance_of gives it) and the
    chroma a * L / 100 + b, with a and b (1, 2, h, w) scaled up bilinearly to (H, W): piece by piece of `chunk`
    pixels, so that nothing of the frame's size is made but the result. As Lab's f(X/Xn) = f(Y/Yn) + a / 500 and
    f(Z/Zn) = f(Y/Yn) - b / 200 are then linear in L too, their slope and offset are what is scaled up."""
    height, width = lightness.shape
    to_f = torch.tensor([1 / 500, -1 / 200]).view(1, 2, 1, 1)
    coefficients = torch.cat([a * to_f / 100 + 1 / 116, b * to_f + 16 / 116], 1)[0]
    out = torch.empty(height, width, 3, dtype=torch.uint8)
    rows = max(1, chunk // width)
    for top in range(0, height, rows):
        bottom = min(top + rows, height)
        if coefficients.shape[-2:] == (height, width):
            scaled = coefficients[:, top:bottom].clone()
        else:
            scaled = upsample_rows(coefficients, height, width, top, bottom)
        f = scaled[:2].mul_(lightness[top:bottom]).add_(scaled[2:])
        x, z = from_f(f[0]), from_f(f[1].clamp_(min=0))
        xyz_to_uint8(x, luminance[top:bottom], z, out[top:bottom])
    return out.numpy()


def colour_frames(model, frames, temporal=True, workers=1, **colorize_settings):
    """Coloured uint8 RGB frames, one per frame of `frames` ((H, W, 3) RGB, uint8 or float 0-1), lazily.
    colorize_settings go to Model.colorize (tile, margin, net_size, flips). temporal=False: each frame coloured
    alone (Model.colorize); True: the network's colours steadied along the motion (this module's docstring).
    The network runs on `workers` frames at once, in threads ahead of the caller (stages.in_order): on the CPU one a
    core, each with one torch thread, is the fastest (video.network_workers); only the steadying needs the frames
    in order, and it runs in the caller's thread."""
    check_flag(temporal, 'temporal')
    check_whole(workers, 'workers', 1, os.cpu_count() or 1)
    if not temporal:
        def colour(item):
            return model.colorize(check_frame(*item), **colorize_settings)
        if workers == 1:  # nothing to overlap it with: in the caller's thread, whose torch threads are up already
            yield from map(colour, enumerate(frames))
        else:
            yield from in_order(colour, enumerate(frames), workers, 'colorlib-network')
        return

    def network(item):  # the network's chroma and the frame's luminance
        frame = check_frame(*item)
        return model.chroma(frame, **colorize_settings), luminance_of(frame)
    steady, prepared = Steady(), in_order(network, enumerate(frames), workers, 'colorlib-network')
    try:
        for chroma, luminance in prepared:
            lightness = lightness_from(luminance)
            yield paint(lightness, luminance, *steady(lightness, chroma))
    finally:
        prepared.close()  # the threads end before this generator does
