"""Dice and Jaccard per class and their mean, accumulated over a whole split.

Intersections and areas are summed over every pixel of every batch before dividing (dataset-level scores,
not an average of per-image scores). A binary model (one logit map) is scored on its foreground class only;
an N-class model on all N classes. A class absent from both prediction and truth has no score (NaN) and is
left out of the mean."""

from __future__ import annotations

import numpy as np
import torch


def predicted_labels(logits: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) logits → (N, H, W) class indices: logit > 0 for C = 1, argmax otherwise."""
    if logits.shape[1] == 1:
        return (logits[:, 0] > 0).long()
    return logits.argmax(1)


def scored_classes(out_channels: int) -> list[int]:
    """The classes a model with ``out_channels`` logit maps is scored on."""
    return [1] if out_channels == 1 else list(range(out_channels))


def image_overlap_counts(pred: torch.Tensor, target: torch.Tensor, classes: list[int]) -> torch.Tensor:
    """(N, 3, K) float64 counts per image: intersection, predicted area, true area of K ``classes``.
    ``pred``, ``target``: integer class maps (N, ...) of the same shape."""
    pred, target = pred.reshape(len(pred), -1), target.reshape(len(target), -1).long()
    rows = []
    for c in classes:
        p, t = pred == c, target == c
        rows.append(torch.stack([(p & t).sum(1), p.sum(1), t.sum(1)], 1))
    return torch.stack(rows, 2).double().cpu()


def dice_jaccard(counts: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Per-class Dice 2I/(P+T) and Jaccard I/(P+T−I) from (3, K) counts; NaN where P + T = 0."""
    intersection, pred, truth = counts.numpy()
    total = pred + truth
    with np.errstate(invalid="ignore", divide="ignore"):
        dice = np.where(total > 0, 2 * intersection / total, np.nan)
        jaccard = np.where(total > 0, intersection / (total - intersection), np.nan)
    return dice, jaccard


class DiceJaccard:
    """Streaming accumulator: ``update`` with each batch of logits and masks, ``compute`` once at the end."""

    def __init__(self, out_channels: int) -> None:
        self.classes = scored_classes(out_channels)
        self.counts = torch.zeros(3, len(self.classes), dtype=torch.float64)
        self.per_image: list[torch.Tensor] = []

    def update(self, logits: torch.Tensor, target: torch.Tensor) -> None:
        """``logits`` (N, C, H, W), ``target`` (N, H, W) class indices."""
        per_image = image_overlap_counts(predicted_labels(logits.detach()), target, self.classes)
        self.per_image.append(per_image)
        self.counts += per_image.sum(0)

    def per_image_counts(self) -> np.ndarray:
        """(N, 3, K) the counts of every image seen, in order (the summed ones are their total)."""
        return torch.cat(self.per_image).numpy() if self.per_image else np.zeros((0, 3, len(self.classes)))

    def compute(self) -> dict[str, float | dict[str, float]]:
        """``dice``, ``jaccard`` (means over scored classes) and ``dice_per_class``, ``jaccard_per_class``."""
        dice, jaccard = dice_jaccard(self.counts)
        return {"dice": _defined_mean(dice), "jaccard": _defined_mean(jaccard),
                "dice_per_class": {str(c): float(d) for c, d in zip(self.classes, dice)},
                "jaccard_per_class": {str(c): float(j) for c, j in zip(self.classes, jaccard)}}


def _defined_mean(values: np.ndarray) -> float:
    defined = values[~np.isnan(values)]
    return float(defined.mean()) if defined.size else float("nan")
