"""Recipes: data, not code paths. A recipe names the optimiser a strategy's parameter groups plug into, the
learning-rate schedule, how pretrained groups are scaled, when the LR is low enough to stop, and the score
selected on by default.

- ``paper-2d`` (the paper's 2D protocol): Adam at ``lr`` (1e-4); ReduceLROnPlateau on the monitored validation
  score (factor 0.5, ``patience`` epochs); stop when every group's LR falls below 1e-7 or at ``max_epochs``;
  monitor validation AUPRC.
- ``paper-3d`` (the paper's 3D protocol, after PENet): SGD with momentum 0.9, cosine annealing over
  ``max_epochs`` to 0; new (randomly initialised) weights at ``lr`` (0.01 by default for this recipe) and
  pretrained weights at 0.1 × ``lr``; monitor validation AUROC. With ``--weights none`` every weight is new.

A strategy's plan gives each group its own ``lr`` (LWFT: η and η/10) and says whether it holds pretrained
weights; the recipe scales the pretrained groups by its ``pretrained_scale``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch


@dataclass(frozen=True)
class Plateau:
    """Multiply the LR by ``factor`` after ``patience`` epochs without gain of the monitored score."""

    factor: float = 0.5

    def make(self, optimizer: torch.optim.Optimizer, maximize: bool, patience: int, max_epochs: int):
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max" if maximize else "min",
                                                          factor=self.factor, patience=patience)

    def step(self, scheduler, score: float) -> None:
        scheduler.step(score)


@dataclass(frozen=True)
class Cosine:
    """Cosine annealing from the LR to 0 over ``max_epochs``."""

    def make(self, optimizer: torch.optim.Optimizer, maximize: bool, patience: int, max_epochs: int):
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max_epochs)

    def step(self, scheduler, score: float) -> None:
        scheduler.step()


@dataclass(frozen=True)
class Recipe:
    """``optimizer``: the optimiser class (with its options) over parameter groups; ``schedule``: the LR schedule,
    stepped once per epoch with the monitored validation score; ``stop_below_lr``: training stops once every
    group's LR is below it (None: it runs to ``max_epochs``)."""

    name: str
    monitor: str
    default_lr: float
    optimizer: Callable[[list[dict]], torch.optim.Optimizer]
    schedule: Plateau | Cosine
    pretrained_scale: float = 1.0
    stop_below_lr: float | None = None

    def groups(self, groups: list[dict], pretrained: bool) -> list[dict]:
        """``groups`` (each with its ``lr``) with the pretrained ones scaled; ``pretrained``: whether the backbone's
        weights are pretrained (else every group is new)."""
        return [{**g, "lr": g["lr"] * (self.pretrained_scale if pretrained and g.get("pretrained") else 1.0)}
                for g in groups]


RECIPES = {r.name: r for r in (
    Recipe("paper-2d", monitor="auprc", default_lr=1e-4, optimizer=torch.optim.Adam, schedule=Plateau(0.5),
           stop_below_lr=1e-7),
    Recipe("paper-3d", monitor="auroc", default_lr=1e-2, optimizer=partial(torch.optim.SGD, momentum=0.9),
           schedule=Cosine(), pretrained_scale=0.1),
)}


def resolve_monitor(task, recipe: Recipe, name: str | None):
    """The validation score a run selects on: ``name`` (``--monitor``), else the task's default given the
    recipe's; checked against the scores ``task`` gives."""
    return task.monitor(name or task.default_monitor(recipe.monitor))


def get_recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise ValueError(f"unknown --recipe {name!r}; choose one of {', '.join(RECIPES)}")
    return RECIPES[name]
