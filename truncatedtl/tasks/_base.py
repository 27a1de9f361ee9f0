"""What a task is: the network it trains, its loss, its metrics, the scores the loop may monitor and reports
show, and how its predictions are written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from ..backbones import Backbone, served_tasks
from ..spec import HeadSpec, ModelSpec
from ..strategies import TrainingPlan, get_strategy


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

    def arrays(self) -> dict[str, np.ndarray] | None:
        """The per-sample outputs kept beside a record (the fields of :class:`~truncatedtl.evidence.Predictions`
        but ids, groups and kind): classification ``labels`` and ``scores``, segmentation ``counts``; None for a
        task whose scores have no per-sample evidence (its intervals are then over seeds only)."""
        return None


class Task:
    """A registered task. ``kind`` details (binary, multiclass, multilabel …) come from the data (its ``kind``).

    It reads its data (``load_data``: splits with ``classes``, ``num_classes``, ``kind``, ``spatial_dims``,
    ``source`` and ``notes``), makes each split's dataset, builds and plans the network of a model spec, and
    gives the loss, the evaluation and the monitored scores."""

    name: str = ""
    monitors: tuple[Monitor, ...] = ()
    # The label kinds of its data (what a trial record's ``task`` holds).
    kinds: tuple[str, ...] = ()
    # The two scores tables and reports show (columns); a search ranks cut points by the second (larger is better).
    shown: tuple[str, str] = ("loss", "loss")
    # How each score is written in tables and messages.
    labels: dict[str, str] = {}
    # Whether a search may rank cut points by features without training there (estimators, SVCCA): they read
    # pooled features of a network with class labels.
    feature_search: bool = False
    # Whether predictions are files written per input (masks) rather than rows of a CSV (probabilities per class).
    prediction_files: bool = False
    # Strategies of the one table this task cannot train, each with the reason.
    refused: dict[str, str] = {}
    # The task whose backbones this one trains on (None: its own): a family declares the tasks it serves.
    backbones_of: str | None = None

    @property
    def selected(self) -> str:
        """The validation score a search ranks cut points by."""
        return self.shown[1]

    def fits(self, backbone: str) -> bool:
        """Whether backbone ``backbone`` serves this task."""
        return (self.backbones_of or self.name) in served_tasks(backbone)

    def default_monitor(self, recipe_monitor: str) -> str:
        """The validation score selected on unless ``--monitor`` says otherwise."""
        return recipe_monitor

    def check_strategy(self, strategy: str) -> None:
        """Refuse a strategy the task cannot train (before any work)."""
        if strategy in self.refused:
            raise ValueError(f"strategy {strategy} is not available for {self.name}: {self.refused[strategy]}")
        get_strategy(strategy)

    def spec(self, backbone: Backbone, strategy: str, cut: int | None, head: HeadSpec) -> ModelSpec:
        """The model ``strategy`` trains on ``backbone`` for this task, its cut resolved (once, here)."""
        if head.num_classes < 1:
            raise ValueError(f"--num-classes must be at least 1, got {head.num_classes}")
        self.check_strategy(strategy)
        resolved = get_strategy(strategy).resolve_cut(backbone, cut)
        return ModelSpec(backbone.name, backbone.weights, strategy, resolved, head, self.name)

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
        """The network of ``spec``: the strategy's body (:meth:`Strategy.body`) under this task's head."""
        raise NotImplementedError

    def plan(self, spec: ModelSpec, model: nn.Module, lr: float) -> TrainingPlan:
        return get_strategy(spec.strategy).plan(model, lr, spec.cut)

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor, kind: str) -> torch.Tensor:
        raise NotImplementedError

    def probabilities(self, outputs: torch.Tensor, kind: str) -> torch.Tensor:
        raise NotImplementedError

    def evaluation(self, kind: str) -> Evaluation:
        raise NotImplementedError

    def write_predictions(self, model: nn.Module, files: list, out: Path, preprocessing: dict,
                          config, probabilities: bool) -> tuple[list[Path], list[str]]:
        """Where :attr:`prediction_files`: write the prediction of each input file into ``out``; returns the
        paths written and the reasons of the inputs that could not be read (they get no file). ``preprocessing``: ``image_size``, ``mean``, ``std``, ``in_chans``, ``intensity``;
        ``config``: the run's options."""
        raise NotImplementedError
