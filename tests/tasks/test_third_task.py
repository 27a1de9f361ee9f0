"""A third task needs its own file and one registration line: the toy regression task (tests/tasks/toy_regression.py)
trains through the engine, is searched, and is reported, with no edit elsewhere."""

import json

import pytest

from truncatedtl.engine import RunConfig, check_config, train
from truncatedtl.search import SearchSettings, search
from truncatedtl.tasks import register

from .toy_regression import SOURCE, Regression

register(Regression())

BASE = RunConfig(data=SOURCE, backbone="resnet18", strategy="ttl", cut=2, task="regression", image_size=32,
                 max_epochs=3, batch_size=16, lr=1e-3, weights="none")


def test_the_toy_task_trains_and_selects_on_its_own_score():
    check_config(BASE)
    run = train(BASE)
    result = run.result
    assert result.task == "regression" and result.monitor == "r2" and result.classes == ["value"]
    assert set(result.val) == set(result.test) == {"mae", "r2", "loss"}
    assert result.val["r2"] == max(h["val_r2"] for h in run.history)
    assert result.val["r2"] > 0  # better than predicting the mean


def test_the_toy_task_is_searched_and_reported(tmp_path):
    settings = SearchSettings(method="two-stage", repeats=1, radius=0)
    report = search(BASE, settings, tmp_path / "search")
    assert report["scores"] == ["mae", "r2"] and report["chosen_cut"] in (2, 4, 6, 8)
    assert json.loads((tmp_path / "search" / "report.json").read_text())["chosen"]["test"]["r2"]["mean"] == \
        report["chosen"]["test"]["r2"]["mean"]
    assert "| TTL (cut" in (tmp_path / "search" / "report.md").read_text()
    assert "R²" in (tmp_path / "search" / "report.md").read_text()


@pytest.mark.parametrize("method", ["svcca", "logme"])
def test_methods_that_read_class_features_are_refused_for_it(method, tmp_path):
    with pytest.raises(ValueError, match=f"--method {method} reads pooled features with class labels; regression"):
        search(BASE, SearchSettings(method=method, repeats=1), tmp_path / method)
