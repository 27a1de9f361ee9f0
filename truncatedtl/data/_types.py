"""The data the product trains on: samples (files or arrays) with labels, split into train/val/test."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

# What the labels of classification data are: one of two classes, one of several, or several at once.
LabelKind = Literal["binary", "multiclass", "multilabel"]


class DataError(ValueError):
    """Input data the product cannot use; the message names the file, row or split."""


@dataclass
class Samples:
    """Images and labels of one split.

    ``items``: file paths, or a uint8 array (N, H, W[, C]) / (N, D, H, W) of images already in memory.
    ``labels``: (N,) class indices, or (N, C) multi-hot for multi-label data.
    ``groups``: (N,) the group each sample belongs to (a CSV ``group`` or ``patient`` column), or ``None``: a
    bootstrap over these samples draws whole groups.
    """

    items: list[Path] | np.ndarray
    labels: np.ndarray
    groups: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def parts(self) -> tuple:
        """What identifies the split: its items and labels."""
        return self.items, self.labels

    def subset(self, index: np.ndarray) -> Samples:
        items = self.items[index] if isinstance(self.items, np.ndarray) else [self.items[i] for i in index]
        return Samples(items, self.labels[index], None if self.groups is None else self.groups[index])

    def ids(self, root: str) -> np.ndarray:
        """One id per sample (N,) str: a file's path relative to ``root`` (the data source) where it lies
        under it, else its path; an array's position in this split."""
        return sample_ids(self.items, root)


def sample_ids(items: list[Path] | np.ndarray, root: str) -> np.ndarray:
    """Ids (N,) str of ``items``: paths relative to ``root`` (or as given), or positions for an array."""
    if isinstance(items, np.ndarray):
        return np.arange(len(items)).astype(str)
    base = Path(root).absolute()
    base = base if base.is_dir() else base.parent
    paths = [Path(p).absolute() for p in items]
    return np.asarray([(p.relative_to(base) if p.is_relative_to(base) else p).as_posix() for p in paths])


@dataclass
class DataSplits:
    """Train/val/test samples of one dataset with its class names and label kind."""

    train: Samples
    val: Samples
    test: Samples
    classes: list[str]
    source: str
    spatial_dims: int = 2
    notes: list[str] = field(default_factory=list)

    @property
    def kind(self) -> LabelKind:
        if self.train.labels.ndim == 2:
            return "multilabel"
        return "binary" if len(self.classes) == 2 else "multiclass"

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def splits(self) -> dict[str, Samples]:
        return {"train": self.train, "val": self.val, "test": self.test}
