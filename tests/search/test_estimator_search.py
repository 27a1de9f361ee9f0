"""Estimator searches: one score per candidate cut, the best-scoring cut trained, the usual report keys."""

import json

import pytest

from truncatedtl.evidence import ceiling_tie
from truncatedtl.search import search
from truncatedtl.search.estimate import RECORD

from .tiny import settings, tiny_base


@pytest.mark.parametrize(("method", "trainings"), [("logme", 2), ("hscore", 2), ("pretrained-probe", 2), ("probe", 2)])
def test_estimator_search_scores_every_cut_and_trains_the_best(tmp_path, method, trainings):
    out = tmp_path / method
    report = search(tiny_base(), settings(method), out)
    by_cut = {row["cut"]: row["score"] for row in report["scores_by_cut"]}
    assert sorted(by_cut) == list(range(9))
    tied = ceiling_tie(by_cut)
    assert report["chosen_cut"] == tied[0]
    if method == "hscore":  # 32 training samples, features 64 wide or more: H-score is 1 at every cut
        assert len(tied) == 9
    if len(tied) > 1:  # easy synthetic data: the probes' AUPRC is 1 at several cuts too
        assert report["ceiling"]["tied_cuts"] == tied
        assert "the estimator cannot choose among them" in report["reason"]
        assert "**Ceiling:**" in (out / "report.md").read_text()
    else:
        assert "ceiling" not in report
    assert report["trials"] == trainings  # the chosen cut and FTL, one repeat each
    assert report["chosen"]["trials"] == [f"ttl-k{report['chosen_cut']:03d}-s0"]
    assert {"chosen_cut", "method", "trials", "chosen", "ftl", "scores_by_cut"} <= set(report)
    saved = json.loads((out / "records" / f"{RECORD}.json").read_text())
    assert saved["method"] == method and saved["scores_by_cut"] == report["scores_by_cut"]
    if method.endswith("probe"):
        assert all(0 <= v <= 1 for v in by_cut.values())  # validation AUPRC of the probe


def test_pooled_features_are_the_spatial_means_at_each_cut():
    import torch

    from truncatedtl.analysis.capture import pooled_features
    from truncatedtl.backbones import load_backbone

    body = load_backbone("resnet18").body(4).eval()
    x = torch.randn(6, 3, 32, 32)
    got = pooled_features(body, [(x[:4], None), (x[4:], None)], [0, 3])
    with torch.no_grad():
        for k in (0, 3):
            torch.testing.assert_close(got[k], body[: k + 1](x).mean((2, 3)).double())
    with pytest.raises(ValueError, match="0..4"):
        pooled_features(body, [x], [5])
