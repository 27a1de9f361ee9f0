"""Every strategy with a cut point is searchable; the test split is read only at the end, for the chosen
model and FTL, unless --test-every-cut asks for it in every trial."""

import json

from truncatedtl.record import read_record
from truncatedtl.search import search

from .tiny import settings, tiny_base


def trial_records(out):
    return {p.stem: read_record(p) for p in sorted((out / "trials").glob("*.json"))}


def test_lwft_and_tf_two_stage_searches_finish(tmp_path):
    lwft = search(tiny_base(), settings("two-stage", strategy="lwft", radius=1), tmp_path / "lwft")
    assert [s["cuts"] for s in lwft["stages"]][0] == [2, 4, 6]  # resnet18 has no neck: lwft stops below cut 8
    assert lwft["strategy"] == "lwft" and lwft["chosen_cut"] <= 7
    assert lwft["chosen"]["trials"] == [f"lwft-k{lwft['chosen_cut']:03d}-s0"]
    tf = search(tiny_base(), settings("two-stage", strategy="tf", radius=1), tmp_path / "tf")
    assert [s["cuts"] for s in tf["stages"]][0] == [2, 4, 6, 8]
    assert tf["chosen"]["trials"] == [f"tf-k{tf['chosen_cut']:03d}-s0"]


def test_no_trial_scores_the_test_split_and_the_report_has_exactly_two_models(tmp_path):
    out = tmp_path / "s"
    report = search(tiny_base(), settings("two-stage", radius=0), out)
    records = trial_records(out)
    assert len(records) == 4 and all(r.test is None for r in records.values())  # ttl at 8: FTL's network
    assert report["no_truncation"] == [8] and "8 (no truncation: FTL's network)" in (out / "report.md").read_text()
    chosen = f"ttl-k{report['chosen_cut']:03d}-s0"
    tests = json.loads((out / "records" / "test.json").read_text())
    assert sorted(tests) == sorted([chosen, "ftl-k008-s0"])
    assert report["chosen"]["trials"] == [chosen] and report["ftl"]["trials"] == ["ftl-k008-s0"]
    assert report["chosen"]["test"]["auprc"]["mean"] == tests[chosen]["auprc"]
    assert report["ftl"]["test"]["auroc"]["mean"] == tests["ftl-k008-s0"]["auroc"]
    assert not report["test_every_cut"] and all("test_auprc" not in row for row in report["by_cut"])
    assert "only" in (out / "report.md").read_text().splitlines()[2]


def test_test_every_cut_scores_every_trial_and_the_end_evaluation_agrees(tmp_path):
    out = tmp_path / "every"
    report = search(tiny_base(), settings("two-stage", radius=0, test_every_cut=True), out)
    records = trial_records(out)
    assert all({"auroc", "auprc"} <= set(r.test) for r in records.values())
    tests = json.loads((out / "records" / "test.json").read_text())
    for key, scores in tests.items():  # the saved checkpoint scores what the trial scored when it ended
        assert scores == records[key].test
    assert report["test_every_cut"] and all("test_auprc" in row for row in report["by_cut"])
    assert "--test-every-cut" in (out / "report.md").read_text().splitlines()[2]
