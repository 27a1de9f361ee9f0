"""Tasks, registered by name: what a kind of problem needs from the training loop.

A task builds the network for a model spec, and gives the loss, the metrics, the scores the loop can monitor and
how predictions are read; the loop itself has no task-specific branches."""

from __future__ import annotations

from ._base import Evaluation, Task
from .classification import Classification

__all__ = ["Evaluation", "Task", "available", "get_task", "register"]

_REGISTRY: dict[str, Task] = {}


def register(task: Task) -> None:
    _REGISTRY[task.name] = task


register(Classification())


def available() -> list[str]:
    return list(_REGISTRY)


def get_task(name: str) -> Task:
    if name not in _REGISTRY:
        raise ValueError(f"unknown --task {name!r}; choose one of {', '.join(available())}")
    return _REGISTRY[name]
