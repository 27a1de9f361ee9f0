"""The model a run trains, resolved once: backbone, weights, strategy, cut point, head and task.

A :class:`ModelSpec` is made by :meth:`truncatedtl.tasks.Task.spec` (the one place a cut is resolved), handed to
build, plan, profile, export and the trial record, and saved in a run's ``config.json`` so that loading a run
reads it instead of resolving it again."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class HeadSpec:
    """The new head: classes (outputs), pooling, optional hidden layer, and the input it will see."""

    num_classes: int
    image_size: int = 224
    pool: bool = True
    hidden: int = 0


@dataclass(frozen=True)
class ModelSpec:
    """``cut`` is resolved: the last cut point for strategies that train the full network (ftl, linear)."""

    backbone: str
    weights: str
    strategy: str
    cut: int
    head: HeadSpec
    task: str = "classification"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> ModelSpec:
        return cls(**{**values, "head": HeadSpec(**values["head"])})
