"""Volumes: the built-in ``synthetic-3d`` set, DICOM series (one folder per volume), and MONAI preprocessing
and augmentation.

Preprocessing (once per volume): the intensity policy (``--intensity``; ``--window L,W`` is the CT window in HU,
``window:L,W``) maps values to 0–255, then the whole volume is resampled to a cube of ``image_size``
(trilinear) and stored as uint8. Training augmentation is that of images, in 3D (:func:`.transforms.augment`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ._types import DataError, DataSplits, Samples

SYNTHETIC_SIZE = 32
SYNTHETIC_COUNTS = {"train": 128, "val": 48, "test": 48}
VOLUME_SUFFIXES = (".nii", ".nii.gz")


def is_volume(path: Path) -> bool:
    """Whether ``path`` holds one volume: a NIfTI file or a folder (a DICOM series)."""
    return path.is_dir() or path.name.lower().endswith(VOLUME_SUFFIXES)


def _volume(rng: np.random.Generator, positive: bool) -> np.ndarray:
    """Soft blobs in a noisy volume; positives carry one small blob of fine oriented stripes."""
    z, y, x = np.mgrid[0:SYNTHETIC_SIZE, 0:SYNTHETIC_SIZE, 0:SYNTHETIC_SIZE] / SYNTHETIC_SIZE
    volume = np.full(z.shape, 0.3)
    for _ in range(rng.integers(2, 5)):
        c, r = rng.uniform(0.2, 0.8, 3), rng.uniform(0.06, 0.15)
        volume += 0.25 * np.exp(-((z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2) / (2 * r**2))
    if positive:
        c, r = rng.uniform(0.3, 0.7, 3), rng.uniform(0.1, 0.16)
        direction = rng.normal(size=3)
        direction /= np.linalg.norm(direction)
        stripes = np.sin(2 * np.pi * rng.uniform(6, 9) * (direction[0] * z + direction[1] * y + direction[2] * x))
        volume += 0.25 * stripes * np.exp(-((z - c[0]) ** 2 + (y - c[1]) ** 2 + (x - c[2]) ** 2) / (2 * r**2))
    volume += rng.normal(0, 0.04, volume.shape)
    return (np.clip(volume, 0, 1) * 255).astype(np.uint8)


def synthetic_3d(seed: int = 0) -> DataSplits:
    """Balanced binary set of 32³ uint8 volumes, fixed split sizes, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    splits = {}
    for split, count in SYNTHETIC_COUNTS.items():
        labels = rng.permutation(np.arange(count) % 2).astype(np.int64)
        splits[split] = Samples(np.stack([_volume(rng, bool(label)) for label in labels]), labels)
    return DataSplits(**splits, classes=["plain", "textured"], source="synthetic-3d", spatial_dims=3,
                      notes=[f"built-in synthetic-3d set (seed {seed})"])


def read_dicom_series(folder: Path) -> np.ndarray:
    """The slices of one DICOM series in ``folder`` stacked along depth (ordered by patient position, else
    instance number), in HU where the files give a rescale: float32 (D, H, W)."""
    import pydicom

    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise DataError(f"DICOM series {folder} holds no files")
    slices = []
    for file in files:
        try:
            ds = pydicom.dcmread(str(file))
            pixels = ds.pixel_array.astype(np.float32)
        except Exception as err:
            raise DataError(f"cannot read DICOM slice {file}: {type(err).__name__}: {err}") from err
        position = getattr(ds, "ImagePositionPatient", None)
        order = float(position[2]) if position is not None else float(getattr(ds, "InstanceNumber", len(slices)))
        pixels = pixels * float(getattr(ds, "RescaleSlope", 1)) + float(getattr(ds, "RescaleIntercept", 0))
        slices.append((order, file, pixels))
    slices.sort(key=lambda s: s[0])
    shapes = {s[2].shape for s in slices}
    if len(shapes) > 1:
        raise DataError(f"DICOM series {folder}: slices of different sizes {sorted(shapes)}")
    return np.stack([s[2] for s in slices])


def resample_volume(x: torch.Tensor, size: int) -> torch.Tensor:
    """(C, D, H, W) float values in [0, 255] → uint8 (C, size, size, size), the whole volume resampled (MONAI
    ``Resize``, trilinear)."""
    from monai.transforms import Resize

    if x.ndim != 4:
        raise DataError(f"volume of shape {tuple(x.shape[1:])} is not (D, H, W)")
    x = Resize((size,) * 3, mode="trilinear", anti_aliasing=False)(x.float())
    return torch.as_tensor(x).as_subclass(torch.Tensor).round().clamp(0, 255).to(torch.uint8)
