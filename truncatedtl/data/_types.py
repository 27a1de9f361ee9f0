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
    """

    items: list[Path] | np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def parts(self) -> tuple:
        """What identifies the split: its items and labels."""
        return self.items, self.labels

    def subset(self, index: np.ndarray) -> Samples:
        items = self.items[index] if isinstance(self.items, np.ndarray) else [self.items[i] for i in index]
        return Samples(items, self.labels[index])


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
