"""The built-in synthetic set: chest-film-like images whose label is a low-level pattern.

Every image has a smooth background and a few soft blobs; positives carry one extra small patch of fine
oriented texture ("lesion"). The label is visible only to low/mid-level features, as for many diseases."""

from __future__ import annotations

import numpy as np

from ._types import DataSplits, Samples

SIZE = 64
COUNTS = {"train": 256, "val": 96, "test": 96}


def _image(rng: np.random.Generator, positive: bool) -> np.ndarray:
    y, x = np.mgrid[0:SIZE, 0:SIZE] / SIZE
    image = 0.35 + 0.15 * np.sin(2 * np.pi * (x * rng.uniform(0.5, 1.5) + rng.uniform()))
    for _ in range(rng.integers(2, 5)):
        cy, cx, r = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8), rng.uniform(0.05, 0.15)
        image += 0.25 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r**2))
    if positive:
        cy, cx, r = rng.uniform(0.25, 0.75), rng.uniform(0.25, 0.75), rng.uniform(0.08, 0.14)
        theta, freq = rng.uniform(0, np.pi), rng.uniform(10, 16)
        stripes = np.sin(2 * np.pi * freq * (x * np.cos(theta) + y * np.sin(theta)))
        image += 0.2 * stripes * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r**2))
    image += rng.normal(0, 0.04, image.shape)
    return (np.clip(image, 0, 1) * 255).astype(np.uint8)


def synthetic(seed: int = 0) -> DataSplits:
    """Balanced binary set, 64×64 grayscale, fixed train/val/test sizes, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    splits = {}
    for split, count in COUNTS.items():
        labels = rng.permutation(np.arange(count) % 2).astype(np.int64)
        splits[split] = Samples(np.stack([_image(rng, bool(label)) for label in labels]), labels)
    return DataSplits(**splits, classes=["plain", "textured"], source="synthetic",
                      notes=[f"built-in synthetic set (seed {seed})"])
