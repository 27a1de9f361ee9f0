"""Estimator searches: one score per candidate cut, the best-scoring cut trained, the usual report keys."""

import json

import pytest

from truncatedtl.search import search
from truncatedtl.search.estimate import RECORD

from .tiny import settings, tiny_base


@pytest.mark.parametrize(("method", "trainings"), [("logme", 2), ("hscore", 2), ("pretrained-probe", 2), ("probe", 2)])
def test_estimator_search_scores_every_cut_and_trains_the_best(tmp_path, method, trainings):
    out = tmp_path / method
    report = search(tiny_base(), settings(method), out)
    by_cut = {row["cut"]: row["score"] for row in report["scores_by_cut"]}
    assert sorted(by_cut) == list(range(9))
    best = max(by_cut.values())
    assert report["chosen_cut"] == min(k for k, v in by_cut.items() if v == best)
    assert report["trials"] == trainings  # the chosen cut and FTL, one repeat each
    assert report["chosen"]["trials"] == [f"ttl-k{report['chosen_cut']:03d}-s0"]
    assert {"chosen_cut", "method", "trials", "chosen", "ftl", "scores_by_cut"} <= set(report)
    saved = json.loads((out / "records" / f"{RECORD}.json").read_text())
    assert saved["method"] == method and saved["scores_by_cut"] == report["scores_by_cut"]
    if method.endswith("probe"):
        assert all(0 <= v <= 1 for v in by_cut.values())  # validation AUPRC of the probe
