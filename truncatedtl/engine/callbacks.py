"""Loop callbacks: the training policy, as hooks the loop calls (as Lightning's callbacks are).

The loop calls ``on_fit_start``, then for every batch ``on_before_backward`` (the loss, before it moves any
weight) and ``on_train_batch_end``, for every epoch ``on_epoch_end`` (with the epoch's row of history: train loss,
validation scores, LR, after the schedule has stepped), and ``on_fit_end``. A callback stops training by setting
``state.should_stop`` (checked after each epoch) or refuses to go on by raising :class:`TrainingError`. The
final record goes to the trackers after the test split (``tracking.log_record``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from ..tasks import Monitor


class TrainingError(RuntimeError):
    """Training cannot go on (NaN loss, divergence, ...); the message says where and what to change."""


@dataclass
class FitState:
    """What callbacks see of a fit in progress: the (unwrapped) model, the optimizer, the epoch, and the stop
    signal."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    max_epochs: int
    epoch: int = 0
    should_stop: bool = False
    history: list[dict] = field(default_factory=list)

    @property
    def lr(self) -> float:
        """The largest learning rate of the optimizer's groups."""
        return max(g["lr"] for g in self.optimizer.param_groups)


class Callback:
    def on_fit_start(self, state: FitState) -> None:
        pass

    def on_before_backward(self, state: FitState, batch: int, loss: float) -> None:
        pass

    def on_train_batch_end(self, state: FitState, batch: int, batches: int, loss: float) -> None:
        pass

    def on_epoch_end(self, state: FitState, row: dict) -> None:
        pass

    def on_fit_end(self, state: FitState) -> None:
        pass


class DivergenceGuard(Callback):
    """Refuses a loss that is not finite or has grown ``factor`` times its first non-zero value (a run that
    diverged without turning NaN), before it moves a weight; ``lr`` is named in the message. The reference is
    the first batch loss above zero: a batch whose labels are all masked out has loss 0."""

    def __init__(self, lr: float, factor: float = 1e4) -> None:
        self.lr, self.factor = lr, factor
        self.first: float | None = None

    def on_before_backward(self, state: FitState, batch: int, loss: float) -> None:
        if self.first is None and math.isfinite(loss) and loss > 0:
            self.first = loss
        if math.isfinite(loss) and (self.first is None or loss <= self.factor * self.first):
            return
        what = f"became {loss}" if not math.isfinite(loss) else (
            f"diverged to {loss:.3g} ({loss / self.first:.3g}× its first non-zero value)")
        raise TrainingError(f"loss {what} at epoch {state.epoch}, batch {batch}: lower the learning rate (--lr, now "
                            f"{self.lr:g}) or check the input data; no checkpoint was written")


class BestCheckpoint(Callback):
    """Keeps, on CPU, the weights and validation scores of the best epoch by ``monitor`` (first best wins);
    refuses, at the end, best weights that are not finite."""

    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor
        self.epoch = 0
        self.scores: dict[str, float] = {}
        self.state: dict[str, torch.Tensor] = {}

    def on_epoch_end(self, state: FitState, row: dict) -> None:
        score = row[f"val_{self.monitor.name}"]
        if self.monitor.better(score, self.scores.get(self.monitor.name)):
            self.epoch = state.epoch
            self.scores = {k[4:]: v for k, v in row.items() if k.startswith("val_")}
            self.state = {k: v.detach().cpu().clone() for k, v in state.model.state_dict().items()}

    def on_fit_end(self, state: FitState) -> None:
        if not all(torch.isfinite(t).all() for t in self.state.values() if t.is_floating_point()):
            raise TrainingError("the best weights hold non-finite values; lower the learning rate (--lr)")


class StopBelowLr(Callback):
    """Stops once the schedule has driven every group's LR below ``min_lr`` (a plateau schedule's end)."""

    def __init__(self, min_lr: float) -> None:
        self.min_lr = min_lr

    def on_epoch_end(self, state: FitState, row: dict) -> None:
        if state.lr < self.min_lr:
            state.should_stop = True


class ProgressCallback(Callback):
    """Calls ``progress(epoch, batch, batches, loss)`` after every batch (a progress display)."""

    def __init__(self, progress) -> None:
        self.progress = progress

    def on_train_batch_end(self, state: FitState, batch: int, batches: int, loss: float) -> None:
        self.progress(state.epoch, batch, batches, loss)


class LoggerCallback(Callback):
    """Sends each epoch's row to experiment trackers (TensorBoard, MLflow: Lightning loggers)."""

    def __init__(self, loggers: list) -> None:
        self.loggers = loggers

    def on_epoch_end(self, state: FitState, row: dict) -> None:
        for logger in self.loggers:
            logger.log_metrics({k: v for k, v in row.items() if k != "epoch"}, step=state.epoch)
