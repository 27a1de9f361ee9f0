"""Transfer-learning strategies, registered by name: ``build(strategy, backbone, cut, head)``."""

from __future__ import annotations

from ..backbones import Backbone
from ..surgery import Network
from ._base import HeadSpec, Strategy, TrainingPlan
from .ftl import FullTransfer
from .linear import LinearProbe
from .lwft import LayerWise
from .tf import TransFusion
from .ttl import Truncated

__all__ = ["HeadSpec", "Strategy", "TrainingPlan", "available", "build", "get_strategy", "register"]

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


def build(strategy: str, backbone: Backbone, cut: int | None, head: HeadSpec) -> Network:
    """The network ``strategy`` trains at cut point ``cut`` (ignored by strategies that use none)."""
    chosen = get_strategy(strategy)
    return chosen.build(backbone, chosen.resolve_cut(backbone, cut), head)
