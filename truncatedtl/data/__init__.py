"""Data: readers, splits, checks and per-item preprocessing. ``load_data(spec)`` reads any supported source."""

from __future__ import annotations

from pathlib import Path

from ._types import DataError, DataSplits, LabelKind, Samples, sample_ids
from .cache import CACHE_HELP, CACHE_KINDS
from .dataset import ImageDataset, Preprocessing, build_cache, pixels_of
from .fingerprint import fingerprint
from .images import Pixels, read_image
from .intensity import INTENSITY_HELP, parse_intensity
from .readers import read_csv, read_folder, read_npz
from .splits import check_classes, check_limit, stratified_limit
from .synthetic import synthetic
from .volumes import synthetic_3d

__all__ = ["CACHE_HELP", "CACHE_KINDS", "INTENSITY_HELP", "DataError", "DataSplits", "ImageDataset", "Pixels", "sample_ids",
           "LabelKind", "Preprocessing", "Samples", "build_cache", "check_data_options", "fingerprint", "load_data", "parse_intensity",
           "pixels_of", "read_image"]


def check_data_options(limit: int | None, num_workers: int, cache: str, intensity: str) -> None:
    """Refuse bad ``--limit``, ``--num-workers``, ``--cache`` or ``--intensity`` values before any work."""
    check_limit(limit)
    if num_workers < 0:
        raise ValueError(f"--num-workers must be 0 or more, got {num_workers}")
    if cache not in CACHE_KINDS:
        raise ValueError(f"--cache {cache!r}: choose one of {', '.join(CACHE_KINDS)}")
    parse_intensity(intensity)


def load_data(spec: str | Path, seed: int = 0, limit: int | None = None, allow_missing_classes: bool = False,
              dedupe: bool = False, uncertain: str | None = None) -> DataSplits:
    """Read ``spec`` — ``synthetic``, ``synthetic-3d``, a ``.npz``, a ``.csv`` manifest or an ImageFolder directory — split it
    (seeded, stratified, where it has no splits), cap each split at ``limit`` samples (stratified), and check
    the class sets of the splits (:func:`~truncatedtl.data.splits.check_classes`). ``uncertain``: policy for
    -1/blank multi-label CSV cells."""
    check_limit(limit)
    if str(spec) == "synthetic":
        data = synthetic(seed)
    elif str(spec) == "synthetic-3d":
        data = synthetic_3d(seed)
    else:
        path = Path(spec)
        if not path.exists():
            raise DataError(f"data {path} does not exist (give a folder, .npz, .csv, 'synthetic' or 'synthetic-3d')")
        if path.is_dir():
            data = read_folder(path, seed)
        elif path.suffix == ".npz":
            data = read_npz(path)
        elif path.suffix == ".csv":
            data = read_csv(path, seed, dedupe, uncertain)
        else:
            raise DataError(f"data {path}: unsupported format (give a folder, .npz, .csv or 'synthetic')")
    if limit is not None:
        data.train, data.val, data.test = (stratified_limit(s, limit, seed) for s in (data.train, data.val, data.test))
        data.notes.append(f"at most {limit} samples per split (stratified)")
    check_classes(data, allow_missing_classes)
    return data
