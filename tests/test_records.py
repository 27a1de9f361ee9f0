"""The tiny 2D trials recorded before the streaming data path (tests/records) reproduce exactly: same seed,
same val/test scores, with the default cache (and, for one of them, with every cache kind)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from truncatedtl.engine import RunConfig, train

RECORDS = sorted((Path(__file__).parent / "records").glob("tiny_*.json"))


def _retrain(record: dict, **changes) -> dict:
    return train(replace(RunConfig.from_dict(record["config"]), **changes)).result.to_dict()


@pytest.mark.parametrize("path", RECORDS, ids=[p.stem for p in RECORDS])
def test_recorded_trial_reproduces(path: Path) -> None:
    record = json.loads(path.read_text())
    result = _retrain(record)
    for split in ("val", "test"):
        for metric in ("auroc", "auprc"):
            assert result[split][metric] == pytest.approx(record["result"][split][metric], abs=1e-6)
    assert result["params"] == record["result"]["params"]


@pytest.mark.parametrize("cache", ["none", "disk"])
def test_every_cache_gives_the_recorded_scores(cache: str) -> None:
    record = json.loads(RECORDS[0].read_text())
    result = _retrain(record, cache=cache)
    for split in ("val", "test"):
        for metric in ("auroc", "auprc"):
            assert result[split][metric] == pytest.approx(record["result"][split][metric], abs=1e-6)
