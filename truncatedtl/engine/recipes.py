"""Recipes: the optimiser, the learning-rate schedule and the stopping rule a strategy's parameter groups plug
into, and the score selected on by default.

- ``paper-2d`` (the paper's 2D protocol): Adam at ``lr`` (1e-4); ReduceLROnPlateau on the monitored validation
  score (factor 0.5, ``patience`` epochs); stop when every group's LR falls below ``min_lr`` (1e-7) or at
  ``max_epochs``; monitor validation AUPRC.
- ``paper-3d`` (the paper's 3D protocol, after PENet): SGD with momentum 0.9, cosine annealing over
  ``max_epochs`` to 0; new (randomly initialised) weights at ``lr`` (0.01 by default for this recipe) and
  pretrained weights at 0.1 × ``lr``; monitor validation AUROC. With ``--weights none`` every weight is new.

A strategy's plan gives each group its own ``lr`` (LWFT: η and η/10) and says whether it holds pretrained
weights; the recipe scales the pretrained groups by its ``pretrained_scale``."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Recipe:
    name: str
    monitor: str
    default_lr: float
    pretrained_scale: float = 1.0

    def optimizer(self, groups: list[dict], pretrained: bool) -> torch.optim.Optimizer:
        """The optimiser over ``groups`` (each with its ``lr``); ``pretrained``: whether the backbone's weights
        are pretrained (else every group is new)."""
        scaled = [{**g, "lr": g["lr"] * (self.pretrained_scale if pretrained and g.get("pretrained") else 1.0)}
                  for g in groups]
        if self.name == "paper-3d":
            return torch.optim.SGD(scaled, momentum=0.9)
        return torch.optim.Adam(scaled)

    def scheduler(self, optimizer: torch.optim.Optimizer, maximize: bool, patience: int, max_epochs: int):
        if self.name == "paper-3d":
            return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max_epochs)
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max" if maximize else "min",
                                                          factor=0.5, patience=patience)

    def step(self, scheduler, score: float) -> None:
        """Advance the schedule after an epoch with validation ``score``."""
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(score)
        else:
            scheduler.step()

    def stop(self, optimizer: torch.optim.Optimizer, min_lr: float) -> bool:
        """paper-2d stops once the plateau schedule has driven every LR below ``min_lr``; cosine runs its course."""
        return self.name == "paper-2d" and max(g["lr"] for g in optimizer.param_groups) < min_lr


RECIPES = {r.name: r for r in (Recipe("paper-2d", monitor="auprc", default_lr=1e-4),
                               Recipe("paper-3d", monitor="auroc", default_lr=1e-2, pretrained_scale=0.1))}


def get_recipe(name: str) -> Recipe:
    if name not in RECIPES:
        raise ValueError(f"unknown --recipe {name!r}; choose one of {', '.join(RECIPES)}")
    return RECIPES[name]
