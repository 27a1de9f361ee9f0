"""The trial record: what one trained model's JSON holds, written by train, compare and search alike, and the
one aggregation of repeats used by every table and plot (mean ± population std).

Records are plain JSON on disk; :class:`TrialRecord` is their typed form (``to_dict`` / ``from_dict``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np


def from_known_keys(cls, values: dict, what: str):
    """``cls(**values)`` for a dataclass read back from JSON; keys it does not know are refused, named."""
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"not {what}: unknown keys {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    return cls(**values)


@dataclass(frozen=True, order=True)
class Trial:
    """One model to train: a strategy at a cut point with one seed (repeat)."""

    strategy: str
    cut: int
    seed: int

    @property
    def key(self) -> str:
        return f"{self.strategy}-k{self.cut:03d}-s{self.seed}"


@dataclass
class TrialRecord:
    """One trained model: what it is (strategy, backbone, resolved cut, cost), how it was trained, its best
    validation scores and, where the test split was read, its test scores (a search reads it only for the
    models it reports); ``memory_format``: the format it trained in and how it was chosen. ``trial``, ``config``,
    ``history``, ``checkpoint`` and ``cost`` are added by the trial store."""

    strategy: str
    backbone: str
    cut: int
    params: int
    macs: int
    epochs: int
    best_epoch: int
    seconds: float
    val: dict[str, float]
    seed: int
    image_size: int
    weights: str
    data: str
    task: str
    classes: list[str]
    samples: dict[str, int]
    notes: list[str]
    recipe: str
    lr: float
    monitor: str
    test: dict[str, float] | None = None
    memory_format: dict | None = None
    val_ci: dict[str, list[float]] | None = None
    test_ci: dict[str, list[float]] | None = None
    flags: dict[str, str] | None = None
    trial: str | None = None
    config: dict | None = None
    history: list[dict] | None = None
    checkpoint: str | None = None
    cost: dict | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_dict(cls, values: dict) -> TrialRecord:
        return from_known_keys(cls, values, "a trial record")


# The two scores tables show for a trial of each task (its record's ``task``); the second is the one a search
# selects on by default (validation AUPRC, validation Dice).
SHOWN = {"segmentation": ("jaccard", "dice")}
CLASSIFICATION_SHOWN = ("auroc", "auprc")
LABELS = {"auroc": "AUROC", "auprc": "AUPRC", "dice": "Dice", "jaccard": "Jaccard"}


def shown_scores(task: str) -> tuple[str, str]:
    """The two scores a table shows for a record of ``task`` (binary, multiclass, multilabel, segmentation)."""
    return SHOWN.get(task, CLASSIFICATION_SHOWN)


def selected_score(task: str) -> str:
    """The validation score a search ranks cut points by for a record of ``task``."""
    return shown_scores(task)[1]


def mean_std(values: list[float]) -> dict[str, float]:
    """``{"mean", "std"}`` of one score over the repeats (population std: 0 for one repeat)."""
    return {"mean": float(np.mean(values)), "std": float(np.std(values))}
