"""A minimal segmentation training loop (Adam, fixed epochs, best validation Dice kept) and evaluation,
until the engine's task protocol drives U-Nets itself."""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.utils.data import DataLoader

from ..strategies import TrainingPlan
from .losses import segmentation_loss
from .metrics import DiceJaccard


@torch.no_grad()
def evaluate(model: nn.Module, loader: DataLoader, device: str = "cpu") -> dict:
    """Dice and Jaccard (mean and per class) of ``model`` over every batch of ``loader``."""
    model.eval()
    scores = None
    for x, mask in loader:
        logits = model(x.to(device))
        scores = scores or DiceJaccard(logits.shape[1])
        scores.update(logits.cpu(), mask)
    return scores.compute()


def fit_segmentation(model: nn.Module, plan: TrainingPlan, train: DataLoader, val: DataLoader, epochs: int,
                     device: str = "cpu") -> dict:
    """Train ``model`` by ``plan`` for ``epochs``; the weights of the epoch with the best validation Dice are
    loaded back. Returns that epoch (1-based) and its validation scores."""
    model.to(device)
    plan.freeze()
    optimizer = torch.optim.Adam(plan.param_groups)
    best: dict = {"epoch": 0, "dice": -1.0}
    state = copy.deepcopy(model.state_dict())
    for epoch in range(1, epochs + 1):
        model.train()
        plan.on_train_mode()
        for x, mask in train:
            optimizer.zero_grad()
            segmentation_loss(model(x.to(device)), mask.to(device)).backward()
            optimizer.step()
        scores = evaluate(model, val, device)
        if scores["dice"] > best["dice"]:
            best = {"epoch": epoch, **scores}
            state = copy.deepcopy(model.state_dict())
    model.load_state_dict(state)
    return best
