"""Preprocessing (evaluation and training alike) and training augmentation, for 2D and 3D alike.

Evaluation: center crop to a square (cube), resize to ``image_size`` (antialiased), grayscale → 3 channels,
normalise with the backbone's mean/std. Training adds a random crop (scale 0.8–1 of the side, resized back)
and a slight random rotation (±5°), 2D only; volumes are not augmented."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from ._types import DataError, Samples
from .readers import read_image


def to_channels_first(pixels: np.ndarray, spatial_dims: int) -> torch.Tensor:
    """(H, W) / (H, W, C) / (D, H, W) pixels → (C, *spatial) tensor."""
    x = torch.from_numpy(np.array(pixels))
    if x.ndim == spatial_dims:
        return x.unsqueeze(0)
    if spatial_dims == 2 and x.ndim == 3:
        return x.permute(2, 0, 1)[:3]
    raise DataError(f"image of shape {tuple(pixels.shape)} is not a {spatial_dims}D image")


def square_resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """Center crop (C, *spatial) to equal sides, then resize to ``size``; returns uint8."""
    sides = x.shape[1:]
    side = min(sides)
    index = (slice(None),) + tuple(slice((s - side) // 2, (s - side) // 2 + side) for s in sides)
    x = x[index].float().unsqueeze(0)
    if side != size:
        mode = "bilinear" if x.ndim == 4 else "trilinear"
        x = F.interpolate(x, size=(size,) * len(sides), mode=mode, align_corners=False, antialias=x.ndim == 4)
    return x.squeeze(0).round().clamp(0, 255).to(torch.uint8)


def _to_uint8(x: torch.Tensor) -> torch.Tensor:
    if x.dtype == torch.uint8:
        return x
    x = x.float()
    lo, hi = x.min(), x.max()
    return ((x - lo) / (hi - lo).clamp_min(1e-8) * 255).round().to(torch.uint8)


def preprocess(samples: Samples, image_size: int, spatial_dims: int) -> torch.Tensor:
    """Every image of ``samples`` decoded, cropped and resized once: uint8 (N, C, *[image_size]*dims)."""
    out = []
    for i in range(len(samples)):
        item = samples.items[i]
        pixels = item if isinstance(item, np.ndarray) else read_image(item)
        out.append(square_resize(_to_uint8(to_channels_first(pixels, spatial_dims)), image_size))
    channels = {t.shape[0] for t in out}
    if len(channels) > 1:
        out = [t.expand(3, *t.shape[1:]) if t.shape[0] == 1 else t for t in out]
    return torch.stack(out)


class ImageDataset(Dataset):
    """Preprocessed images with their labels; ``train=True`` adds augmentation."""

    def __init__(self, images: torch.Tensor, labels: np.ndarray, mean: tuple[float, ...],
                 std: tuple[float, ...], train: bool, in_chans: int = 3) -> None:
        self.images = images
        self.labels = torch.as_tensor(labels)
        self.train = train
        self.in_chans = in_chans
        shape = (-1,) + (1,) * (images.ndim - 2)
        self.mean = torch.tensor(mean).view(shape)
        self.std = torch.tensor(std).view(shape)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.images[i]
        if self.train and x.ndim == 3:
            x = augment(x)
        x = x.float() / 255
        if x.shape[0] != self.in_chans:
            x = x.expand(self.in_chans, *x.shape[1:])
        return (x - self.mean) / self.std, self.labels[i]


def random_affine() -> torch.Tensor:
    """(1, 2, 3) affine of a random square crop of 80–100 % of the side (resized back) and a rotation within
    ±5°: one draw, so an image and its mask can share it."""
    scale = float(torch.empty(()).uniform_(0.8, 1.0))
    angle = float(torch.empty(()).uniform_(-5, 5)) * math.pi / 180
    shift = torch.empty(2).uniform_(-(1 - scale), 1 - scale)
    cos, sin = math.cos(angle) * scale, math.sin(angle) * scale
    return torch.tensor([[cos, -sin, float(shift[0])], [sin, cos, float(shift[1])]]).unsqueeze(0)


def augment(x: torch.Tensor, theta: torch.Tensor | None = None, mode: str = "bilinear") -> torch.Tensor:
    """``x`` resampled through ``theta`` (a fresh :func:`random_affine` when None) in one affine resampling
    (``mode`` bilinear for images, nearest for masks). (C, H, W) uint8 in, float in [0, 255] out."""
    theta = random_affine() if theta is None else theta
    grid = F.affine_grid(theta, [1, *x.shape], align_corners=False)
    return F.grid_sample(x.float().unsqueeze(0), grid, mode=mode, padding_mode="border",
                         align_corners=False).squeeze(0)
