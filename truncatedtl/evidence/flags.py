"""Degenerate scores, flagged so that no report presents them as results.

A flag is a name and a sentence that says what was seen and its likely cause; records keep them as
``flags`` = {name: sentence}, and reports show them beside the scores they qualify:

- ``degenerate``: the model gives every sample the same output (its features collapsed): its AUROC is 0.5 by
  construction, not by learning;
- ``still_improving``: the best validation epoch is the last one trained: the run had not converged;
- ``no_truncation``: a cut that builds the same network, trained the same way, as FTL;
- ``ceiling``: an estimator's scores tie at their ceiling across cut points, so its choice would fall to
  rounding (:func:`ceiling_tie`)."""

from __future__ import annotations

import numpy as np

from ..record import TrialRecord
from .predictions import Predictions

# Outputs varying less than this across every sample of a split count as one output.
COLLAPSE_SPREAD = 1e-6
# Scores closer than this (relative to their size) to the best count as tied with it.
TIE_TOLERANCE = 1e-9
# Below this input side, a collapse most likely comes from an input smaller than the receptive field.
SMALL_INPUT = 64


def collapse(predictions: Predictions) -> str | None:
    """What shows a collapse in ``predictions``, or None: every probability the same across samples
    (classification), no pixel of any scored class predicted on any image (segmentation)."""
    if predictions.kind == "segmentation":
        return "predicts no pixel of the scored classes on any image" if predictions.counts[:, 1].sum() == 0 \
            else None
    spread = float(np.ptp(predictions.scores, axis=0).max())
    if spread > COLLAPSE_SPREAD:
        return None
    return f"gives every sample the same probabilities (largest spread across samples {spread:.1e})"


def degenerate(predictions: dict[str, Predictions], image_size: int, backbone: str) -> str | None:
    """The ``degenerate`` flag's sentence for a model whose outputs collapsed on any kept split, with the
    likely cause, or None."""
    seen = {split: why for split, p in predictions.items() if (why := collapse(p)) is not None}
    if not seen:
        return None
    split, why = next(iter(seen.items()))
    cause = (f"likely cause: the input ({image_size} px) is smaller than the receptive field of {backbone}, whose "
             f"features then no longer vary with the image; use a larger --image-size" if image_size <= SMALL_INPUT
             else "likely cause: training diverged or the learning rate is too high; check --lr and the data")
    return f"the model {why} on the {split} split (its features collapsed), so its scores are chance by " \
           f"construction; {cause}"


def still_improving(best_epoch: int, epochs: int) -> str | None:
    """The ``still_improving`` flag's sentence when the best epoch is the last one trained, or None."""
    if best_epoch < epochs:
        return None
    return f"the best validation epoch is the last one trained ({best_epoch} of {epochs}): the run had not " \
           f"converged; raise --max-epochs"


def record_flags(record: TrialRecord, predictions: dict[str, Predictions] | None = None) -> dict[str, str]:
    """The flags of a trial record (``best_epoch``, ``epochs``, ``image_size``, ``backbone``) and its kept
    predictions; the record's own ``flags`` (set when it was trained, from predictions a report may not have) are
    kept. Older records without predictions get the flags their numbers show."""
    flags = {k: v for k, v in (record.flags or {}).items() if k != "still_improving"}
    if (why := still_improving(record.best_epoch, record.epochs)) is not None:
        flags["still_improving"] = why
    if predictions and (why := degenerate(predictions, record.image_size, record.backbone)) is not None:
        flags.setdefault("degenerate", why)
    return flags


def ceiling_tie(scores: dict[int, float], tolerance: float = TIE_TOLERANCE) -> list[int]:
    """The cuts (sorted) whose score lies within ``tolerance`` (relative) of the highest: more than one means
    the estimator cannot tell them apart (e.g. H-score at 1.0 ± 1e-13 wherever the feature width reaches the
    number of training samples)."""
    top = max(scores.values())
    return sorted(k for k, v in scores.items() if abs(v - top) <= tolerance * max(1.0, abs(top)))
