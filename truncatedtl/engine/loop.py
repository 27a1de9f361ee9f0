"""The training loop: one trial's epochs, on one device or several (DDP), at any precision.

What to optimise and how (optimiser, schedule, the LR to stop at) is the recipe's (data); what to compute
(loss, scores) is the task's; which parameters train at which rate is the strategy's plan; the training policy
(the divergence guard, keeping the best weights, stopping, progress and logging) is callbacks, called by the
loop at each batch and epoch. Devices, precision and DDP are Lightning Fabric's: ``devices`` > 1 runs DDP (gloo on CPU, NCCL
on GPU) with a distributed sampler, the gradient averaged over ranks and the validation outputs gathered so that
every rank computes the same scores (and takes the same scheduling decisions)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from ..strategies import TrainingPlan
from ..tasks import Monitor, Task, get_task
from .callbacks import BestCheckpoint, Callback, DivergenceGuard, FitState, ProgressCallback, StopBelowLr
from .recipes import RECIPES, Recipe, resolve_monitor

PRECISIONS = {"32": "32-true", "bf16-mixed": "bf16-mixed", "16-mixed": "16-mixed"}


@dataclass(frozen=True)
class LoopConfig:
    lr: float = 1e-4
    batch_size: int = 64
    max_epochs: int = 100
    plateau_patience: int = 3
    device: str = "cpu"
    recipe: Recipe = RECIPES["paper-2d"]
    monitor: Monitor | None = None  # None: the task's default under the recipe
    precision: str = "32"
    pretrained: bool = True


@dataclass
class FitResult:
    best_epoch: int
    best_val: dict[str, float]
    epochs: int
    history: list[dict] = field(default_factory=list)
    best_state: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)


def check_precision(precision: str, device: str) -> None:
    """Refuse a precision that is unknown or that ``device`` cannot run (16-mixed needs a GPU)."""
    if precision not in PRECISIONS:
        raise ValueError(f"--precision {precision!r}: choose one of {', '.join(PRECISIONS)}")
    if precision == "16-mixed" and not device.startswith("cuda"):
        raise ValueError("--precision 16-mixed needs a GPU (--device cuda); on CPU use bf16-mixed or 32")


def make_fabric(device: str = "cpu", devices: int = 1, precision: str = "32"):
    """A Lightning Fabric for ``device`` (cpu, cuda, cuda:N) × ``devices`` at ``precision``; launched (DDP
    processes started, or joined under torchrun) when ``devices`` > 1."""
    from lightning.fabric import Fabric

    check_precision(precision, device)
    cuda = device.startswith("cuda")
    accelerator = "cuda" if cuda else "cpu"
    chosen = [int(device.split(":")[1])] if cuda and ":" in device and devices == 1 else devices
    fabric = Fabric(accelerator=accelerator, devices=chosen, strategy="ddp" if devices > 1 else "auto",
                    precision=PRECISIONS[precision])
    if devices > 1:
        fabric.launch()
    return fabric


@torch.no_grad()
def run_outputs(model: nn.Module, loader: DataLoader, fabric=None):
    """Yield ``(outputs, targets)`` per batch of ``loader`` in dataset order, model in eval mode; under DDP the
    ranks' shares are gathered (every rank sees every sample once, the sampler's padding dropped)."""
    model.eval()
    world = fabric.world_size if fabric is not None else 1
    total, seen = len(loader.dataset), 0
    device = fabric.device if fabric is not None else next(model.parameters()).device
    for x, y in loader:
        out = model(x.to(device))
        y = y.to(device)
        if world > 1:
            out, y = (fabric.all_gather(t).transpose(0, 1).flatten(0, 1) for t in (out, y))
        keep = min(len(y), total - seen)
        seen += keep
        yield out[:keep].float(), y[:keep]


def evaluate(model: nn.Module, loader: DataLoader, kind: str, device: str = "cpu", task: Task | None = None,
             fabric=None) -> dict[str, float]:
    """Scores of ``model`` on every sample of ``loader`` (``loss`` included)."""
    return evaluate_split(model, loader, kind, device, task, fabric)[0]


def evaluate_split(model: nn.Module, loader: DataLoader, kind: str, device: str = "cpu", task: Task | None = None,
                   fabric=None) -> tuple[dict[str, float], dict[str, np.ndarray] | None]:
    """Scores of ``model`` on every sample of ``loader`` and its per-sample outputs (the task's
    ``Evaluation.arrays``), in dataset order."""
    task = task or get_task("classification")
    if fabric is None:
        model.to(device)
    evaluation = task.evaluation(kind)
    for out, y in run_outputs(model, loader, fabric):
        evaluation.update(out, y, task.loss(out, y, kind).item())
    return evaluation.compute(), evaluation.arrays()


@torch.no_grad()
def predict(model: nn.Module, loader: DataLoader, kind: str, device: str = "cpu",
            task: Task | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Probabilities and targets of every sample of ``loader``, model in eval mode."""
    task = task or get_task("classification")
    model.to(device)
    pairs = [(task.probabilities(out, kind).cpu(), y.cpu()) for out, y in run_outputs(model, loader)]
    return torch.cat([p for p, _ in pairs]), torch.cat([y for _, y in pairs])


def fit(model: nn.Module, plan: TrainingPlan, train: DataLoader, val: DataLoader, kind: str, config: LoopConfig,
        progress=None, task: Task | None = None, callbacks: Sequence[Callback] = (), fabric=None) -> FitResult:
    """Train ``model`` by ``plan`` and ``config.recipe``; returns the best epoch's weights (by the monitored
    validation score) and the per-epoch history.

    ``progress``: optional callable ``(epoch, batch, batches, loss)`` for a progress display; ``callbacks`` run
    after the policy's own (divergence guard, best checkpoint, the recipe's stop)."""
    task = task or get_task("classification")
    recipe = config.recipe
    monitor = config.monitor or resolve_monitor(task, recipe, None)
    fabric = fabric or make_fabric(config.device, 1, config.precision)
    net = model
    plan.freeze()
    optimizer = recipe.optimizer(recipe.groups(plan.param_groups, config.pretrained))
    model, optimizer = fabric.setup(model, optimizer)
    train, val = fabric.setup_dataloaders(train, val)
    scheduler = recipe.schedule.make(optimizer, monitor.maximize, config.plateau_patience, config.max_epochs)
    best = BestCheckpoint(monitor)
    policy = [DivergenceGuard(config.lr), best]
    policy += [StopBelowLr(recipe.stop_below_lr)] if recipe.stop_below_lr is not None else []
    policy += [ProgressCallback(progress)] if progress is not None else []
    callbacks = [*policy, *callbacks]
    state = FitState(net, optimizer, config.max_epochs)
    for callback in callbacks:
        callback.on_fit_start(state)
    while state.epoch < config.max_epochs and not state.should_stop:
        state.epoch += 1
        start = time.perf_counter()
        model.train()
        plan.on_train_mode()
        total, count = 0.0, 0
        for b, (x, y) in enumerate(train, start=1):
            loss = task.loss(model(x), y, kind)
            value = loss.item()
            for callback in callbacks:
                callback.on_before_backward(state, b, value)
            optimizer.zero_grad(set_to_none=True)
            fabric.backward(loss)
            optimizer.step()
            total += value * len(y)
            count += len(y)
            for callback in callbacks:
                callback.on_train_batch_end(state, b, len(train), value)
        val_scores = evaluate(model, val, kind, task=task, fabric=fabric)
        row = {"epoch": state.epoch, "train_loss": total / max(count, 1),
               **{f"val_{k}": v for k, v in val_scores.items()},
               "lr": state.lr, "seconds": time.perf_counter() - start}
        state.history.append(row)
        recipe.schedule.step(scheduler, val_scores[monitor.name])
        for callback in callbacks:
            callback.on_epoch_end(state, row)
    for callback in callbacks:
        callback.on_fit_end(state)
    return FitResult(best.epoch, best.scores, len(state.history), state.history, best.state)
