"""The training loop (SPEC §4): Adam, ReduceLROnPlateau on validation AUPRC, stop when the learning rate
falls below ``min_lr`` or at ``max_epochs``, keep the weights of the best validation AUPRC.

Strategies never run the loop: they hand it a :class:`TrainingPlan` (parameter groups, frozen modules)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils.data import DataLoader

from ..data import Task
from ..strategies import TrainingPlan
from .metrics import loss_fn, probabilities, scores


class TrainingError(RuntimeError):
    """Training cannot go on (NaN loss, ...); the message says where and what to change."""


@dataclass(frozen=True)
class LoopConfig:
    lr: float = 1e-4
    batch_size: int = 64
    max_epochs: int = 100
    min_lr: float = 1e-7
    plateau_factor: float = 0.5
    plateau_patience: int = 3
    device: str = "cpu"


@dataclass
class FitResult:
    best_epoch: int
    best_val: dict[str, float]
    epochs: int
    history: list[dict] = field(default_factory=list)
    best_state: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)


@torch.no_grad()
def predict(model: nn.Module, loader: DataLoader, task: Task, device: str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Probabilities (N, classes) and labels of every sample of ``loader``, model in eval mode."""
    model.eval()
    probs, labels = [], []
    for x, y in loader:
        probs.append(probabilities(model(x.to(device)).float(), task).cpu())
        labels.append(y)
    return torch.cat(probs), torch.cat(labels)


def evaluate(model: nn.Module, loader: DataLoader, task: Task, device: str = "cpu") -> dict[str, float]:
    return scores(*predict(model, loader, task, device), task)


def fit(model: nn.Module, plan: TrainingPlan, train: DataLoader, val: DataLoader, task: Task,
        config: LoopConfig, progress=None) -> FitResult:
    """Train ``model`` by ``plan``; returns the best validation AUPRC's weights and the per-epoch history.

    ``progress``: optional callable ``(epoch, batch, batches, loss)`` for a progress display."""
    device = config.device
    model.to(device)
    plan.freeze()
    optimizer = torch.optim.Adam(plan.param_groups)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="max", factor=config.plateau_factor, patience=config.plateau_patience)
    best: FitResult | None = None
    history: list[dict] = []
    for epoch in range(1, config.max_epochs + 1):
        start = time.perf_counter()
        model.train()
        plan.on_train_mode()
        total, count = 0.0, 0
        for b, (x, y) in enumerate(train, start=1):
            x, y = x.to(device), y.to(device)
            loss = loss_fn(model(x), y, task)
            if not math.isfinite(loss.item()):
                raise TrainingError(f"loss became {loss.item()} at epoch {epoch}, batch {b}: lower the learning "
                                    f"rate (--lr, now {config.lr:g}) or check the input data")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
            count += len(y)
            if progress is not None:
                progress(epoch, b, len(train), loss.item())
        val_scores = evaluate(model, val, task, device)
        lr = max(g["lr"] for g in optimizer.param_groups)
        history.append({"epoch": epoch, "train_loss": total / max(count, 1), "val_auroc": val_scores["auroc"],
                        "val_auprc": val_scores["auprc"], "lr": lr, "seconds": time.perf_counter() - start})
        if best is None or val_scores["auprc"] > best.best_val["auprc"]:
            state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            best = FitResult(epoch, val_scores, epoch, best_state=state)
        scheduler.step(val_scores["auprc"])
        if max(g["lr"] for g in optimizer.param_groups) < config.min_lr:
            break
    assert best is not None
    best.epochs = len(history)
    best.history = history
    return best

