"""Transfer-learning strategies, registered by name: one table for every task (see :mod:`._base`)."""

from __future__ import annotations

from ._base import Body, Strategy, TrainingPlan
from .ftl import FullTransfer
from .linear import LinearProbe
from .lwft import LayerWise
from .tf import TransFusion
from .ttl import Truncated

__all__ = ["Body", "Strategy", "TrainingPlan", "available", "get_strategy", "register"]

_REGISTRY: dict[str, Strategy] = {}


def register(strategy: Strategy) -> None:
    _REGISTRY[strategy.name] = strategy


for _strategy in (FullTransfer(), LinearProbe(), LayerWise(), TransFusion(), Truncated()):
    register(_strategy)


def available() -> list[str]:
    return list(_REGISTRY)


def get_strategy(name: str) -> Strategy:
    if name not in _REGISTRY:
        raise ValueError(f"unknown strategy {name!r}; choose one of {', '.join(available())}")
    return _REGISTRY[name]
