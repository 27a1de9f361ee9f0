"""The trial record: what one trained model's JSON holds, written by train, compare and search alike, and the
one aggregation of repeats used by every table and plot (mean ± population std).

Records are plain JSON on disk; :class:`TrialRecord` is their typed form. :func:`read_record` and
:func:`write_record` are the one reader and writer of that JSON; everything else handles ``TrialRecord``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from .files import write_json


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
    models it reports). ``task`` is the label kind of its data (binary, multiclass, multilabel, segmentation …:
    :func:`truncatedtl.tasks.task_of_kind` gives the task); ``memory_format``: the format it trained in and how it
    was chosen; ``val_ci``/``test_ci``: 95 % intervals of its scores over the split's samples; ``flags``: why its
    scores should not be read as a finding (still improving, degenerate …). ``trial``, ``config``, ``history``,
    ``checkpoint`` and ``cost`` are added by the trial store. ``recipe``, ``lr`` and ``monitor`` are absent from
    records written before they were kept."""

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
    recipe: str | None = None
    lr: float | None = None
    monitor: str | None = None
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


def read_record(path: Path) -> TrialRecord:
    """The trial record saved at ``path`` (a trial's JSON or a run's ``result.json``)."""
    try:
        return TrialRecord.from_dict(json.loads(Path(path).read_text()))
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: {err}") from err


def write_record(path: Path, record: TrialRecord) -> None:
    """Save ``record`` at ``path`` whole or not at all."""
    write_json(path, record.to_dict())


def mean_std(values: list[float]) -> dict[str, float]:
    """``{"mean", "std"}`` of one score over the repeats (population std: 0 for one repeat)."""
    return {"mean": float(np.mean(values)), "std": float(np.std(values))}
