"""Data: readers, splits and preprocessing. ``load_data(spec)`` reads any supported source."""

from __future__ import annotations

from pathlib import Path

from ._types import DataError, DataSplits, Samples, Task
from .readers import read_csv, read_folder, read_image, read_npz
from .splits import check_classes, stratified_limit
from .synthetic import synthetic
from .transforms import ImageDataset, preprocess

__all__ = ["DataError", "DataSplits", "ImageDataset", "Samples", "Task", "load_data", "preprocess", "read_image"]


def load_data(spec: str | Path, seed: int = 0, limit: int | None = None, uncertain: str | None = None) -> DataSplits:
    """Read ``spec`` — ``synthetic``, a ``.npz``, a ``.csv`` manifest or an ImageFolder directory — split it
    (seeded, stratified, where it has no splits), cap each split at ``limit`` samples (stratified), and check
    that every split holds at least two classes. ``uncertain``: policy for -1/blank multi-label CSV cells."""
    if str(spec) == "synthetic":
        data = synthetic(seed)
    else:
        path = Path(spec)
        if not path.exists():
            raise DataError(f"data {path} does not exist (give a folder, .npz, .csv or 'synthetic')")
        if path.is_dir():
            data = read_folder(path, seed)
        elif path.suffix == ".npz":
            data = read_npz(path)
        elif path.suffix == ".csv":
            data = read_csv(path, seed, uncertain)
        else:
            raise DataError(f"data {path}: unsupported format (give a folder, .npz, .csv or 'synthetic')")
    if limit is not None:
        data.train, data.val, data.test = (stratified_limit(s, limit, seed) for s in (data.train, data.val, data.test))
        data.notes.append(f"at most {limit} samples per split (stratified)")
    check_classes(data)
    return data
