"""Tasks, registered by name: what a kind of problem needs from the training loop.

A task resolves and builds the network of a model spec (the strategy's body under the task's head or
decoder), and gives the loss, the metrics, the scores the loop can monitor, the columns reports show and how
predictions are written; the loop itself has no task-specific branches. A backbone family declares the tasks
it serves (:attr:`truncatedtl.backbones.Family.tasks`). A new task is one module with a :class:`Task` subclass
and one :func:`register` call."""

from __future__ import annotations

from torch import nn

from ..backbones import Backbone, served_tasks
from ..backbones import available as available_backbones
from ..spec import HeadSpec, ModelSpec
from ._base import Evaluation, Monitor, Task
from .classification import Classification
from .segmentation import Segmentation

__all__ = ["Evaluation", "Monitor", "Task", "available", "build_network", "default_task", "get_task", "register",
           "resolve_spec", "resolve_task", "score_label", "task_of_kind"]

_REGISTRY: dict[str, Task] = {}


def register(task: Task) -> None:
    _REGISTRY[task.name] = task


register(Classification())
register(Segmentation())


def available() -> list[str]:
    return list(_REGISTRY)


def resolve_task(task: str | None, backbone: str) -> str:
    """``--task`` for ``backbone``: the task its family serves first where none is given; a known task the
    backbone does not serve is refused."""
    if task is None:
        return default_task(backbone)
    found = get_task(task)
    if not found.fits(backbone):
        served = ", ".join(served_tasks(backbone))
        fitting = ", ".join(available_backbones(task=found.backbones_of or task))
        raise ValueError(f"--task {task} does not fit backbone {backbone} (it serves {served}); backbones for "
                         f"{task}: {fitting}")
    return task


def get_task(name: str) -> Task:
    if name not in _REGISTRY:
        raise ValueError(f"unknown --task {name!r}; choose one of {', '.join(available())}")
    return _REGISTRY[name]


def task_of_kind(kind: str) -> Task:
    """The task whose data has label kind ``kind`` (what a trial record's ``task`` holds)."""
    for task in _REGISTRY.values():
        if kind in task.kinds:
            return task
    raise ValueError(f"no registered task has data of kind {kind!r}")


def score_label(score: str) -> str:
    """How score ``score`` is written (``auprc`` → AUPRC), by the task that gives it."""
    labels = {k: v for task in _REGISTRY.values() for k, v in task.labels.items()}
    return labels.get(score, score)


def default_task(backbone: str) -> str:
    """The task backbone ``backbone`` serves first (its family's declaration)."""
    return served_tasks(backbone)[0]


def resolve_spec(backbone: Backbone, strategy: str, cut: int | None, head: HeadSpec,
                 task: str | None = None) -> ModelSpec:
    """The model ``strategy`` trains on ``backbone`` for ``task`` (default: the backbone's), cut resolved."""
    return get_task(task or default_task(backbone.name)).spec(backbone, strategy, cut, head)


def build_network(spec: ModelSpec, backbone: Backbone) -> nn.Module:
    """The network of ``spec`` on ``backbone`` (its weights copied, nothing above the cut built)."""
    return get_task(spec.task).build(spec, backbone)
