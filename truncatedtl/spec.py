"""The model a run trains, resolved once: backbone, weights, strategy, cut point, head and task.

Every command builds a :class:`ModelSpec` through :func:`resolve_spec` and hands it to build, plan, profile,
export and the trial record, so the cut of a strategy that trains the full network is derived in one place."""

from __future__ import annotations

from dataclasses import dataclass

from .backbones import Backbone
from .strategies import HeadSpec, get_strategy


@dataclass(frozen=True)
class ModelSpec:
    """``cut`` is resolved: the last cut point for strategies that train the full network (ftl, linear)."""

    backbone: str
    weights: str
    strategy: str
    cut: int
    head: HeadSpec
    task: str = "classification"


def resolve_spec(backbone: Backbone, strategy: str, cut: int | None, head: HeadSpec,
                 task: str = "classification") -> ModelSpec:
    """Check ``strategy`` and ``cut`` against ``backbone`` and return the spec with the cut it really trains."""
    from .tasks import get_task

    if head.num_classes < 1:
        raise ValueError(f"--num-classes must be at least 1, got {head.num_classes}")
    get_task(task).check_strategy(strategy)
    resolved = get_strategy(strategy).resolve_cut(backbone, cut)
    return ModelSpec(backbone.name, backbone.weights, strategy, resolved, head, task)
