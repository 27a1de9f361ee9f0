"""Tasks, registered by name: what a kind of problem needs from the training loop.

A task builds the network for a model spec, and gives the loss, the metrics, the scores the loop can monitor and
how predictions are read; the loop itself has no task-specific branches."""

from __future__ import annotations

from ..backbones import UNET_PREFIX
from ._base import Evaluation, Task
from .classification import Classification
from .segmentation import Segmentation

__all__ = ["Evaluation", "Task", "available", "get_task", "register", "resolve_task", "task_of"]

_REGISTRY: dict[str, Task] = {}


def register(task: Task) -> None:
    _REGISTRY[task.name] = task


register(Classification())
register(Segmentation())


def available() -> list[str]:
    return list(_REGISTRY)


def task_of(backbone: str) -> str:
    """The task a backbone name implies: segmentation for the U-Nets (``unet_*``), else classification."""
    return "segmentation" if backbone.startswith(UNET_PREFIX) else "classification"


def resolve_task(task: str | None, backbone: str) -> str:
    """``--task`` for ``backbone``: the task it implies where none is given; a known task that does not fit the
    backbone is refused."""
    implied = task_of(backbone)
    if task is None:
        return implied
    get_task(task)
    if task != implied:
        raise ValueError(f"--task {task} does not fit backbone {backbone}: segmentation takes the U-Net backbones "
                         f"(unet_<encoder>), classification the others")
    return task


def get_task(name: str) -> Task:
    if name not in _REGISTRY:
        raise ValueError(f"unknown --task {name!r}; choose one of {', '.join(available())}")
    return _REGISTRY[name]
