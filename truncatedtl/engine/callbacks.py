"""Loop callbacks: what happens at the end of each epoch besides training (keeping the best weights, logging).

The loop calls ``on_epoch_end(epoch, model, row)`` with the epoch's row of history (train loss, validation
scores, LR); callbacks never drive the loop. The final record goes to the trackers after the test split
(``tracking.log_record``)."""

from __future__ import annotations

import torch
from torch import nn

from ..tasks._base import Monitor


class Callback:
    def on_epoch_end(self, epoch: int, model: nn.Module, row: dict) -> None:
        pass


class BestCheckpoint(Callback):
    """Keeps, on CPU, the weights and validation scores of the best epoch by ``monitor`` (first best wins)."""

    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor
        self.epoch = 0
        self.scores: dict[str, float] = {}
        self.state: dict[str, torch.Tensor] = {}

    def on_epoch_end(self, epoch: int, model: nn.Module, row: dict) -> None:
        score = row[f"val_{self.monitor.name}"]
        if self.monitor.better(score, self.scores.get(self.monitor.name)):
            self.epoch = epoch
            self.scores = {k[4:]: v for k, v in row.items() if k.startswith("val_")}
            self.state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


class LoggerCallback(Callback):
    """Sends each epoch's row to experiment trackers (TensorBoard, MLflow: Lightning loggers)."""

    def __init__(self, loggers: list) -> None:
        self.loggers = loggers

    def on_epoch_end(self, epoch: int, model: nn.Module, row: dict) -> None:
        for logger in self.loggers:
            logger.log_metrics({k: v for k, v in row.items() if k != "epoch"}, step=epoch)
