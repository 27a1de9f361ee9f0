"""The training policy as callbacks: the loop calls every hook in order and stops on a callback's signal; the
divergence guard, the best checkpoint and the plateau's LR floor each do their one job; a recipe is data, so a
new one trains without a line of loop code."""

from __future__ import annotations

import math
from functools import partial

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from truncatedtl.engine import Callback, FitState, LoopConfig, TrainingError, fit
from truncatedtl.engine.callbacks import BestCheckpoint, DivergenceGuard, StopBelowLr
from truncatedtl.engine.recipes import Cosine, Plateau, Recipe
from truncatedtl.strategies import TrainingPlan
from truncatedtl.tasks import Monitor


def _loader(n: int = 16) -> DataLoader:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(n, 6, generator=generator)
    return DataLoader(TensorDataset(x, (x[:, 0] > 0).long()), batch_size=8)


def _model() -> tuple[nn.Module, TrainingPlan]:
    torch.manual_seed(0)
    model = nn.Linear(6, 2)
    return model, TrainingPlan([{"params": list(model.parameters()), "lr": 0.1, "pretrained": False}])


class Recorder(Callback):
    def __init__(self, stop_after: int | None = None) -> None:
        self.calls: list[str] = []
        self.stop_after = stop_after

    def on_fit_start(self, state: FitState) -> None:
        self.calls.append("start")

    def on_before_backward(self, state: FitState, batch: int, loss: float) -> None:
        self.calls.append(f"loss {state.epoch}.{batch}")

    def on_train_batch_end(self, state: FitState, batch: int, batches: int, loss: float) -> None:
        self.calls.append(f"batch {state.epoch}.{batch}/{batches}")

    def on_epoch_end(self, state: FitState, row: dict) -> None:
        self.calls.append(f"epoch {row['epoch']}")
        state.should_stop = state.epoch == self.stop_after

    def on_fit_end(self, state: FitState) -> None:
        self.calls.append("end")


def test_the_loop_calls_every_hook_in_order_and_stops_on_the_signal():
    model, plan = _model()
    recorder = Recorder(stop_after=2)
    result = fit(model, plan, _loader(), _loader(), "binary", LoopConfig(lr=0.1, max_epochs=5), callbacks=[recorder])
    assert recorder.calls == ["start", "loss 1.1", "batch 1.1/2", "loss 1.2", "batch 1.2/2", "epoch 1",
                              "loss 2.1", "batch 2.1/2", "loss 2.2", "batch 2.2/2", "epoch 2", "end"]
    assert result.epochs == 2 and [row["epoch"] for row in result.history] == [1, 2]


def test_divergence_guard_refuses_nan_and_a_runaway_loss_before_it_moves_a_weight():
    state = FitState(nn.Linear(1, 1), None, 3, epoch=2)
    guard = DivergenceGuard(lr=0.5)
    guard.on_before_backward(state, 1, 0.7)
    guard.on_before_backward(state, 2, 0.7 * 9999)
    with pytest.raises(TrainingError, match=r"diverged to 7\.7e\+03 \(1\.1e\+04× its first non-zero value\) at epoch 2, "
                                            r"batch 3: lower the learning rate \(--lr, now 0\.5\)"):
        guard.on_before_backward(state, 3, 0.7 * 11000)
    with pytest.raises(TrainingError, match="loss became nan at epoch 2, batch 4"):
        guard.on_before_backward(state, 4, math.nan)


def test_best_checkpoint_keeps_the_first_best_epoch_by_its_monitor():
    model = nn.Linear(1, 1)
    state = FitState(model, None, 4)
    best = BestCheckpoint(Monitor("loss", maximize=False))
    for epoch, loss in enumerate([0.9, 0.5, 0.5, 0.7], start=1):
        state.epoch = epoch
        with torch.no_grad():
            model.weight.fill_(epoch)
        best.on_epoch_end(state, {"epoch": epoch, "val_loss": loss, "val_auprc": 1 - loss})
    assert best.epoch == 2 and best.scores == {"loss": 0.5, "auprc": 0.5}
    assert best.state["weight"].item() == 2
    best.on_fit_end(state)
    best.state["weight"].fill_(float("inf"))
    with pytest.raises(TrainingError, match="non-finite"):
        best.on_fit_end(state)


def test_the_lr_floor_stops_a_plateau_schedule():
    model, plan = _model()
    optimizer = torch.optim.SGD(plan.param_groups)
    state = FitState(model, optimizer, 10)
    stop = StopBelowLr(1e-3)
    stop.on_epoch_end(state, {})
    assert not state.should_stop
    optimizer.param_groups[0]["lr"] = 1e-4
    stop.on_epoch_end(state, {})
    assert state.should_stop


def test_a_plateau_recipe_stops_once_its_lr_falls_below_the_floor():
    """Halving after every epoch without gain (patience 0) from 0.1 passes below 0.02 after three halvings."""
    recipe = Recipe("halving", monitor="auprc", default_lr=0.1, optimizer=torch.optim.SGD,
                    schedule=Plateau(0.5), stop_below_lr=0.02)
    model, _ = _model()
    # the model's group trains at LR 0, so the score never improves; the LR followed is the empty group's
    plan = TrainingPlan([{"params": [], "lr": 0.1, "pretrained": False},
                         {"params": list(model.parameters()), "lr": 0.0, "pretrained": False}])
    result = fit(model, plan, _loader(), _loader(), "binary",
                 LoopConfig(lr=0.1, max_epochs=20, plateau_patience=0, recipe=recipe))
    assert [row["lr"] for row in result.history] == pytest.approx([0.1, 0.1, 0.05, 0.025])
    assert result.epochs == 4


def test_a_new_recipe_is_data_the_loop_runs_unchanged():
    recipe = Recipe("sgd-cosine", monitor="loss", default_lr=0.1, optimizer=partial(torch.optim.SGD, momentum=0.5),
                    schedule=Cosine(), pretrained_scale=0.5)
    model, plan = _model()
    plan.param_groups[0]["pretrained"] = True
    result = fit(model, plan, _loader(), _loader(), "binary", LoopConfig(lr=0.1, max_epochs=2, recipe=recipe))
    assert [row["lr"] for row in result.history] == pytest.approx([0.05, 0.025])  # scaled, then cosine
    assert result.best_epoch == min(result.history, key=lambda r: r["val_loss"])["epoch"]
