"""The training loop: deterministic with a seed, frozen parts untouched, NaN loss stops with a clear error,
best-validation checkpoint kept; the run directory."""

import json

import pytest
import torch

from truncatedtl.engine import LoopConfig, RunConfig, TrainingError, fit, load_run, prepare, save_run, train
from truncatedtl.engine.run import build_network
from truncatedtl.strategies import get_strategy

TINY = {"data": "synthetic", "backbone": "resnet18", "image_size": 32, "max_epochs": 2, "limit": 48,
        "weights": "none"}


@pytest.fixture(scope="module")
def ttl_run():
    return train(RunConfig(strategy="ttl", cut=2, **TINY))


def test_same_seed_same_numbers_other_seed_other_numbers(ttl_run):
    again = train(RunConfig(strategy="ttl", cut=2, **TINY))
    other = train(RunConfig(strategy="ttl", cut=2, seed=1, **TINY))
    assert again.result["val"] == ttl_run.result["val"] and again.result["test"] == ttl_run.result["test"]
    assert all(torch.equal(ttl_run.state[k], again.state[k]) for k in ttl_run.state)
    assert other.result["val"] != ttl_run.result["val"]


def test_best_checkpoint_is_the_best_validation_epoch(ttl_run):
    history = ttl_run.history
    best = max(history, key=lambda h: h["val_auprc"])
    assert ttl_run.result["best_epoch"] == best["epoch"]
    assert ttl_run.result["val"]["auprc"] == pytest.approx(best["val_auprc"])


def test_linear_strategy_leaves_body_bit_identical():
    config = RunConfig(strategy="linear", **{**TINY, "max_epochs": 1})
    prepared = prepare(config)
    before = {k: v.clone() for k, v in prepared.backbone.body(prepared.backbone.last_cut).state_dict().items()}
    run = train(config, prepared)
    after = {k.removeprefix("body."): v for k, v in run.state.items() if k.startswith("body.")}
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before), "frozen weights or BN statistics moved"
    head = [k for k in run.state if k.startswith("head.")]
    assert head


def test_nan_loss_stops_with_a_clear_error():
    config = RunConfig(strategy="ttl", cut=1, **TINY)
    prepared = prepare(config)
    model = build_network(config, prepared.backbone, 2)
    torch.nn.init.constant_(model.head.classifier[-1].weight, float("nan"))
    strategy = get_strategy("ttl")
    with pytest.raises(TrainingError, match="loss became nan at epoch 1, batch 1"):
        fit(model, strategy.plan(model, 1e-4), prepared.loader("train", config), prepared.loader("val", config),
            "binary", LoopConfig(max_epochs=1))


def test_run_directory_round_trips(ttl_run, tmp_path):
    out = save_run(ttl_run, tmp_path / "run")
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "metrics.csv", "model.safetensors",
                                                     "predictions_test.npz", "predictions_val.npz", "result.json"]
    result = json.loads((out / "result.json").read_text())
    assert result["cut"] == 2 and result["params"] == ttl_run.result["params"]
    model, config, _ = load_run(out)
    assert config.cut == 2 and len(model.body) == 3
    assert all(torch.equal(model.state_dict()[k], ttl_run.state[k]) for k in ttl_run.state)
