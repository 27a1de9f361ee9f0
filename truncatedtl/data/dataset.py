"""The Dataset every training, evaluation and prediction reads: items decoded and preprocessed one at a
time (in DataLoader workers when there are any), through an optional cache; augmentation in training."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ._types import Samples
from .cache import DiskCache, ItemCache, RamCache, check_cache_space, disk_cache_path, resolve_cache
from .fingerprint import items_digest
from .images import Pixels, in_memory, read_image
from .transforms import augment, normalise, preprocess


@dataclass(frozen=True)
class Preprocessing:
    """How an item becomes a model input: side, dimensionality, intensity policy, the backbone's channels and
    normalisation."""

    image_size: int
    spatial_dims: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    in_chans: int = 3
    intensity: str = "dtype"


def pixels_of(samples: Samples, i: int) -> Pixels:
    """Item ``i`` of ``samples``: the in-memory array, or the file read at its native depth."""
    item = samples.items[i]
    return in_memory(item, f"item {i}") if isinstance(item, np.ndarray) else read_image(Path(item))


def build_cache(kind: str, samples: Samples, prep: Preprocessing, folder: Callable[[], Path]) -> ItemCache | None:
    """The cache ``kind`` (``auto``/``ram``/``disk``/``none``) for ``samples``; its record shape is that of the
    first item preprocessed. ``folder()`` gives the folder of disk caches (asked only for one). A cache larger
than the space it would live in is refused before it is allocated."""
    if len(samples) == 0:
        return None
    shape = tuple(preprocess(pixels_of(samples, 0), prep.image_size, prep.spatial_dims, prep.intensity).shape)
    kind = resolve_cache(kind, len(samples) * math.prod(shape))
    if kind == "ram":
        check_cache_space(kind, len(samples), shape)
        return RamCache(len(samples), shape)
    if kind == "disk":
        path = disk_cache_path(folder(), items_digest(samples), prep.image_size, prep.spatial_dims, prep.intensity,
                               shape)
        if not path.exists():
            check_cache_space(kind, len(samples), shape, path.parent)
        return DiskCache(path, len(samples), shape)
    return None


class ImageDataset(Dataset):
    """``samples`` as normalised float (C, *spatial) inputs with their labels; ``train=True`` augments."""

    def __init__(self, samples: Samples, prep: Preprocessing, train: bool, cache: ItemCache | None = None) -> None:
        self.samples = samples
        self.prep = prep
        self.train = train
        self.cache = cache
        self.labels = torch.as_tensor(samples.labels)
        shape = (-1,) + (1,) * prep.spatial_dims
        self.mean = torch.tensor(prep.mean).view(shape)
        self.std = torch.tensor(prep.std).view(shape)

    def __len__(self) -> int:
        return len(self.labels)

    def image(self, i: int) -> torch.Tensor:
        """Item ``i`` preprocessed, uint8 (C, *spatial), from the cache where it is there."""
        x = self.cache.get(i) if self.cache is not None else None
        if x is None:
            x = preprocess(pixels_of(self.samples, i), self.prep.image_size, self.prep.spatial_dims,
                           self.prep.intensity)
            if self.cache is not None:
                self.cache.put(i, x)
        return x

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.image(i)
        if self.train:
            x = augment(x)
        return normalise(x, self.mean, self.std, self.prep.in_chans), self.labels[i]
