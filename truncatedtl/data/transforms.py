"""Preprocessing (evaluation and training alike) and training augmentation, for 2D and 3D alike.

Evaluation: the intensity policy maps native values to 0–255; an image is center-cropped to a square and resized
to ``image_size`` (antialiased), a volume resampled whole to a cube of ``image_size`` (MONAI, trilinear); both
are rounded to uint8 (what a cache keeps), then grayscale → the backbone's channels and normalisation with its
mean/std. Training adds a random crop (scale 0.8–1 of the side, resized back) and a slight random rotation
(±5°); volumes also a random flip per axis: one affine resampling per item (for volumes some 30× faster than
the chain of MONAI transforms it replaced, which took most of a 3D trial on a CPU)."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ._types import DataError
from .images import Pixels
from .intensity import check_values, intensity_range, to_display
from .volumes import resample_volume


def to_channels_first(pixels: np.ndarray, spatial_dims: int) -> np.ndarray:
    """(H, W) / (H, W, C) / (D, H, W) pixels → (C, *spatial) (RGBA loses alpha)."""
    if pixels.ndim == spatial_dims:
        return pixels[None]
    if spatial_dims == 2 and pixels.ndim == 3:
        return np.moveaxis(pixels, 2, 0)[:3]
    raise DataError(f"image of shape {tuple(pixels.shape)} is not a {spatial_dims}D image")


def square_resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """Center crop (C, *spatial) float values in [0, 255] to equal sides, then resize to ``size``; returns uint8."""
    sides = x.shape[1:]
    side = min(sides)
    index = (slice(None),) + tuple(slice((s - side) // 2, (s - side) // 2 + side) for s in sides)
    x = x[index].unsqueeze(0)
    if side != size:
        mode = "bilinear" if x.ndim == 4 else "trilinear"
        x = F.interpolate(x, size=(size,) * len(sides), mode=mode, align_corners=False, antialias=x.ndim == 4)
    return x.squeeze(0).round().clamp(0, 255).to(torch.uint8)


def preprocess(pixels: Pixels, image_size: int, spatial_dims: int, intensity: str = "dtype") -> torch.Tensor:
    """One image or volume to uint8 (C, *[image_size]*spatial_dims): intensity policy, then center crop and
    resize (images) or whole-volume resampling (volumes)."""
    x = display(pixels, spatial_dims, intensity)
    return resample_volume(x, image_size) if spatial_dims == 3 else square_resize(x, image_size)


def display(pixels: Pixels, spatial_dims: int, intensity: str = "dtype") -> torch.Tensor:
    """Native pixels → float (C, *spatial) in [0, 255] by the intensity policy (values it cannot map are
    refused, :func:`~.intensity.check_values`)."""
    check_values(pixels.array, pixels.range, intensity, pixels.name)
    lo, hi = intensity_range(pixels.array, pixels.range, intensity)
    return torch.from_numpy(np.ascontiguousarray(to_display(to_channels_first(pixels.array, spatial_dims), lo, hi)))


def normalise(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, in_chans: int) -> torch.Tensor:
    """uint8 or float (C, *spatial) in [0, 255] → float, gray repeated to ``in_chans``, standardised by the
    per-channel ``mean``/``std`` (shaped (C, 1, ...))."""
    x = x.float() / 255
    if x.shape[0] != in_chans:
        x = x.expand(in_chans, *x.shape[1:])
    return (x - mean) / std


def random_affine(spatial_dims: int = 2) -> torch.Tensor:
    """(1, d, d + 1) affine of ``spatial_dims`` = d axes, one draw (so an image and its mask can share it).
    Images: a random square crop of 80–100 % of the side (resized back) and a rotation within ±5°. Volumes: a
    crop of 80–100 % of each side, a flip of each axis with probability 1/2 and a rotation within ±5° about each
    axis, composed into one transform (resampled once, not once per transform)."""
    if spatial_dims == 3:
        return _random_affine_3d()
    scale = float(torch.empty(()).uniform_(0.8, 1.0))
    angle = float(torch.empty(()).uniform_(-5, 5)) * math.pi / 180
    shift = torch.empty(2).uniform_(-(1 - scale), 1 - scale)
    cos, sin = math.cos(angle) * scale, math.sin(angle) * scale
    return torch.tensor([[cos, -sin, float(shift[0])], [sin, cos, float(shift[1])]]).unsqueeze(0)


def _rotation(axis: int, angle: float) -> torch.Tensor:
    """3 × 3 rotation by ``angle`` (radians) about ``axis``."""
    i, j = [a for a in range(3) if a != axis]
    r = torch.eye(3)
    r[i, i], r[i, j], r[j, i], r[j, j] = math.cos(angle), -math.sin(angle), math.sin(angle), math.cos(angle)
    return r


def _random_affine_3d() -> torch.Tensor:
    scale = torch.empty(3).uniform_(0.8, 1.0)
    flips = torch.where(torch.rand(3) < 0.5, -1.0, 1.0)
    angles = torch.empty(3).uniform_(-5, 5) * math.pi / 180
    shift = (torch.rand(3) * 2 - 1) * (1 - scale)
    rotation = _rotation(0, float(angles[0])) @ _rotation(1, float(angles[1])) @ _rotation(2, float(angles[2]))
    return torch.cat([rotation @ torch.diag(scale * flips), shift[:, None]], dim=1).unsqueeze(0)


def augment(x: torch.Tensor, theta: torch.Tensor | None = None, mode: str = "bilinear") -> torch.Tensor:
    """``x`` resampled through ``theta`` (a fresh :func:`random_affine` when None) in one affine resampling
    (``mode`` bilinear — trilinear for volumes — or nearest for masks), edges repeated. (C, *spatial) uint8 in,
    float in [0, 255] out."""
    theta = random_affine(x.ndim - 1) if theta is None else theta
    grid = F.affine_grid(theta, [1, *x.shape], align_corners=False)
    return F.grid_sample(x.float().unsqueeze(0), grid, mode=mode, padding_mode="border",
                         align_corners=False).squeeze(0)
