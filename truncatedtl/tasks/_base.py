"""What a task is: the network it trains, its loss, its metrics and the scores the loop may monitor."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from ..backbones import Backbone
from ..spec import ModelSpec
from ..strategies import TrainingPlan


@dataclass(frozen=True)
class Monitor:
    """A score the loop can select on: its name and whether larger is better."""

    name: str
    maximize: bool = True

    def better(self, score: float, best: float | None) -> bool:
        return best is None or (score > best if self.maximize else score < best)


class Evaluation:
    """Accumulates one split's outputs batch by batch; ``compute`` gives its scores (``loss`` included)."""

    def update(self, outputs: torch.Tensor, targets: torch.Tensor, loss: float) -> None:
        raise NotImplementedError

    def compute(self) -> dict[str, float]:
        raise NotImplementedError

    def arrays(self) -> dict[str, np.ndarray]:
        """The per-sample outputs kept beside a record (the fields of :class:`~truncatedtl.evidence.Predictions`
        but ids, groups and kind): classification ``labels`` and ``scores``, segmentation ``counts``."""
        raise NotImplementedError


class Task:
    """A registered task. ``kind`` details (binary, multiclass, multilabel …) come from the data (its ``task``).

    It reads its data (``load_data``: splits with ``classes``, ``num_classes``, ``task``, ``spatial_dims``,
    ``source`` and ``notes``), makes each split's dataset, builds and plans the network of a model spec, and
    gives the loss, the evaluation and the monitored scores."""

    name: str = ""
    monitors: tuple[Monitor, ...] = ()

    def default_monitor(self, recipe_monitor: str) -> str:
        """The validation score selected on unless ``--monitor`` says otherwise."""
        return recipe_monitor

    def check_strategy(self, strategy: str) -> None:
        """Refuse a strategy the task cannot train (before any work)."""

    def load_data(self, config):
        raise NotImplementedError

    def dataset(self, prepared, split: str, config) -> Dataset:
        raise NotImplementedError

    def monitor(self, name: str) -> Monitor:
        found = {m.name: m for m in self.monitors}
        if name not in found:
            raise ValueError(f"--monitor {name!r} is not a score of the {self.name} task; choose one of "
                             f"{', '.join(found)}")
        return found[name]

    def build(self, spec: ModelSpec, backbone: Backbone) -> nn.Module:
        raise NotImplementedError

    def plan(self, spec: ModelSpec, model: nn.Module, lr: float) -> TrainingPlan:
        raise NotImplementedError

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor, kind: str) -> torch.Tensor:
        raise NotImplementedError

    def probabilities(self, outputs: torch.Tensor, kind: str) -> torch.Tensor:
        raise NotImplementedError

    def evaluation(self, kind: str) -> Evaluation:
        raise NotImplementedError
