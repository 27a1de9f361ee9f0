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


# Suffixes of 2D image files: a folder holding one of them is not a DICOM series.
FLAT_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}
# A step between neighbouring slices this many times the series' usual step means slices are missing.
GAP_FACTOR = 1.5


def is_dicom_series(folder: Path) -> bool:
    """Whether ``folder`` holds one DICOM series: files only (hidden ones aside), none of them a NIfTI volume
    or a 2D image file (PNG, JPEG, BMP, TIFF)."""
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    return bool(entries) and all(p.is_file() and not is_volume(p) and p.suffix.lower() not in FLAT_SUFFIXES
                                 for p in entries)


def _slice_position(ds) -> float | None:
    """Position of a slice along the series' normal (from ImagePositionPatient and ImageOrientationPatient;
    z without an orientation), else its InstanceNumber, else ``None``."""
    position = ds.get("ImagePositionPatient")
    if position is not None:
        orientation = ds.get("ImageOrientationPatient")
        if orientation is None:
            return float(position[2])
        normal = np.cross(np.asarray(orientation[:3], float), np.asarray(orientation[3:], float))
        return float(np.dot(np.asarray(position, float), normal))
    number = ds.get("InstanceNumber")
    return None if number is None else float(number)


def check_series(folder: Path, files: list[Path], series: list[str | None], positions: list[float]) -> None:
    """Refuse a folder that is not one whole series, naming it: two SeriesInstanceUIDs, two slices at one
    position, or a gap in the positions (slices missing). ``positions`` sorted, ``files`` in their order."""
    uids = sorted({uid for uid in series if uid is not None})
    if len(uids) > 1:
        raise DataError(f"DICOM series folder {folder} mixes {len(uids)} series (SeriesInstanceUID "
                        f"{', '.join(uids[:3])}); put each series in its own folder")
    steps = np.diff(np.asarray(positions))
    same = np.flatnonzero(np.abs(steps) < 1e-6)
    if len(same):
        i = int(same[0])
        raise DataError(f"DICOM series folder {folder}: slices {files[i].name} and {files[i + 1].name} lie at the "
                        f"same position ({positions[i]:g}); {len(same)} duplicate slice(s): keep one of each")
    if len(steps) >= 2:
        usual = float(np.median(steps))
        gaps = np.flatnonzero(steps > GAP_FACTOR * usual)
        if len(gaps):
            missing = int(sum(round(steps[g] / usual) - 1 for g in gaps))
            i = int(gaps[0])
            raise DataError(f"DICOM series folder {folder}: about {max(missing, 1)} slice(s) missing (a step of "
                            f"{steps[i]:g} after {files[i].name} where slices lie {usual:g} apart); the volume "
                            f"would be stretched: complete the series")


def read_dicom_series(folder: Path) -> np.ndarray:
    """The slices of one DICOM series in ``folder`` stacked along depth (ordered by position along the slice
    normal, else instance number), in HU where the files give a rescale: float32 (D, H, W). A folder that is
    not one whole series is refused (:func:`check_series`)."""
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
        pixels = pixels * float(getattr(ds, "RescaleSlope", 1)) + float(getattr(ds, "RescaleIntercept", 0))
        slices.append((_slice_position(ds), file, pixels, ds.get("SeriesInstanceUID")))
    if all(s[0] is not None for s in slices):
        slices.sort(key=lambda s: s[0])
        check_series(folder, [s[1] for s in slices], [s[3] for s in slices], [s[0] for s in slices])
    else:
        check_series(folder, [s[1] for s in slices], [s[3] for s in slices], [])
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
