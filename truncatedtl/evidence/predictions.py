"""One model's per-sample outputs on one split, kept beside its record (``predictions_<split>.npz``) so that any
comparison is paired and any interval is redrawn without retraining.

Classification keeps the probabilities (N, classes) and labels; segmentation the per-image overlap counts
(N, 3, K: intersection, predicted and true pixels of K classes), from which Dice and Jaccard of any resample of
images are exact. Every file holds the sample ids (and groups, where the data names them) so that two models
are compared only on the same samples in the same order. Written through :mod:`truncatedtl.files`, read with
``allow_pickle=False``."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..files import write_bytes
from .stats import weighted_auroc, weighted_average_precision, weighted_overlap

CLASSIFICATION_METRICS = ("auroc", "auprc")
SEGMENTATION_METRICS = ("dice", "jaccard")


def predictions_file(split: str) -> str:
    """The file name of a run directory's ``split`` predictions."""
    return f"predictions_{split}.npz"


@dataclass(frozen=True)
class Predictions:
    """``kind``: binary, multiclass, multilabel or segmentation. ``ids`` (N,) str; ``groups`` (N,) str or None.
    Classification: ``labels`` (N,) int or (N, C) multi-hot (-1 masked), ``scores`` (N, C) probabilities.
    Segmentation: ``counts`` (N, 3, K) per-image intersection, predicted and true pixels of the scored classes."""

    kind: str
    ids: np.ndarray
    labels: np.ndarray | None = None
    scores: np.ndarray | None = None
    counts: np.ndarray | None = None
    groups: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def metrics(self) -> tuple[str, ...]:
        return SEGMENTATION_METRICS if self.kind == "segmentation" else CLASSIFICATION_METRICS

    def save(self, path: Path) -> None:
        arrays = {k: v for k, v in (("ids", self.ids), ("labels", self.labels), ("scores", self.scores),
                                    ("counts", self.counts), ("groups", self.groups)) if v is not None}
        buffer = io.BytesIO()
        np.savez_compressed(buffer, kind=np.asarray(self.kind), **arrays)
        write_bytes(path, buffer.getvalue())

    @classmethod
    def load(cls, path: Path) -> Predictions:
        try:
            with np.load(path, allow_pickle=False) as archive:
                values = {k: archive[k] for k in archive.files}
        except (OSError, ValueError) as err:
            raise ValueError(f"cannot read predictions {path}: {err}") from err
        return cls(kind=str(values.pop("kind")), **values)

    def strata(self) -> np.ndarray:
        """(N,) the stratum of each sample for the bootstrap: its class (its label combination for multi-label
        data); one stratum for segmentation."""
        if self.labels is None:
            return np.zeros(len(self), dtype=np.int64)
        if self.labels.ndim == 1:
            return self.labels
        return np.unique(self.labels, axis=0, return_inverse=True)[1].reshape(-1)

    def binary(self) -> tuple[np.ndarray, np.ndarray]:
        """Scores (N,) of the positive class and the positives (N,) bool of a binary task (for DeLong)."""
        if self.kind != "binary":
            raise ValueError(f"DeLong's interval is for binary tasks, not {self.kind}")
        return self.scores[:, 1], self.labels == 1

    def score(self, metric: str, weights: np.ndarray | None = None) -> np.ndarray:
        """``metric`` (B,) under bootstrap ``weights`` (B, N), or (1,) unweighted: binary AUROC/AUPRC of the
        positive class, their macro average over the classes (one-vs-rest; classes absent from the labels and
        masked multi-label entries left out) otherwise; Dice/Jaccard of the summed counts for segmentation."""
        if metric not in self.metrics:
            raise ValueError(f"{metric!r} is not a score of {self.kind} predictions ({', '.join(self.metrics)})")
        if self.kind == "segmentation":
            return weighted_overlap(self.counts, weights)[metric]
        function = weighted_auroc if metric == "auroc" else weighted_average_precision
        if self.kind == "binary":
            return function(self.scores[:, 1], self.labels == 1, weights)
        w = np.ones((1, len(self))) if weights is None else np.atleast_2d(np.asarray(weights, dtype=np.float64))
        per_class = []
        for c in range(self.scores.shape[1]):
            if self.kind == "multiclass":
                if not (self.labels == c).any():
                    continue
                per_class.append(function(self.scores[:, c], self.labels == c, w))
            else:
                known = self.labels[:, c] >= 0
                if len(np.unique(self.labels[known, c])) == 2:
                    per_class.append(function(self.scores[:, c], self.labels[:, c] == 1, w * known))
        return np.mean(per_class, axis=0)
