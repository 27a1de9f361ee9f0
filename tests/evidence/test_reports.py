"""Evidence applied to kept predictions: intervals, the paired verdict against FTL in a comparison report drawn
from constructed records, flags on collapsed and still-improving models and on an estimator at its ceiling,
groups carried from a CSV manifest and kept whole."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tests.conftest import write_png
from truncatedtl.data import load_data
from truncatedtl.evidence import Predictions, ceiling_tie, collapse, compare, record_flags, score_interval
from truncatedtl.evidence.flags import degenerate
from truncatedtl.files import write_json
from truncatedtl.report.comparison import write_comparison_tables

N = 200
LABELS = np.r_[np.ones(N // 2, int), np.zeros(N // 2, int)]


def predictions(separation: float, seed: int, groups: np.ndarray | None = None) -> Predictions:
    """Binary predictions whose positives score ``separation`` higher on average (0: a collapsed model scores
    every sample 0.5)."""
    rng = np.random.default_rng(seed)
    if separation == 0:
        p = np.full(N, 0.5)
    else:
        p = 1 / (1 + np.exp(-(rng.normal(LABELS * separation, 1.0))))
    return Predictions("binary", np.arange(N).astype(str), LABELS, np.stack([1 - p, p], 1).astype(np.float32),
                       groups=groups)


def test_predictions_round_trip_without_pickle(tmp_path):
    kept = predictions(1.5, 0, groups=np.repeat(np.arange(N // 2), 2).astype(str))
    kept.save(tmp_path / "p.npz")
    with np.load(tmp_path / "p.npz", allow_pickle=False) as archive:
        assert set(archive.files) == {"kind", "ids", "labels", "scores", "groups"}
    again = Predictions.load(tmp_path / "p.npz")
    assert again.kind == "binary" and np.array_equal(again.ids, kept.ids) and np.array_equal(again.groups, kept.groups)
    assert again.score("auroc")[0] == pytest.approx(kept.score("auroc")[0])


def test_interval_over_seeds_and_groups():
    runs = [predictions(1.5, s) for s in range(3)]
    one, three = score_interval(runs[:1], "auroc"), score_interval(runs, "auroc")
    assert one["seeds"] == 1 and three["seeds"] == 3 and one["samples"] == three["samples"] == N
    assert one["ci"][0] < one["estimate"] < one["ci"][1] and one["delong"][0] < one["estimate"] < one["delong"][1]
    grouped = [predictions(1.5, 0, groups=np.repeat(np.arange(N // 4), 4).astype(str))]
    result = score_interval(grouped, "auroc")
    assert result["groups"] == N // 4
    # groups of four correlated samples: fewer independent units, a wider interval than the same data ungrouped
    assert np.diff(result["ci"])[0] > np.diff(one["ci"])[0]


@pytest.mark.parametrize(("separation", "expected"), [(2.5, "superior"), (1.0, "inferior")])
def test_paired_verdict_against_ftl(separation, expected):
    ftl = [predictions(1.6, s) for s in range(3)]
    other = [predictions(separation, 10 + s) for s in range(3)]
    for metric in ("auroc", "auprc"):
        entry = compare(other, ftl, metric, margin=0.02)
        assert entry["verdict"] == expected
        assert (entry["p_value"] is not None) == (metric == "auroc")
    same = compare(ftl[:1], ftl[:1], "auprc", margin=0.02)  # one model against itself: exactly 0
    assert same["difference"] == 0 and same["verdict"] == "non-inferior"


def test_paired_comparison_refuses_other_samples():
    other = predictions(1.0, 0)
    shifted = Predictions("binary", np.roll(other.ids, 1), other.labels, other.scores)
    with pytest.raises(ValueError, match="not scored on the same samples"):
        compare([other], [shifted], "auroc")


def test_collapse_and_ceiling_flags_fire_on_constructed_cases_and_not_on_a_healthy_run():
    healthy, collapsed = predictions(1.5, 0), predictions(0.0, 0)
    assert collapse(healthy) is None and "same probabilities" in collapse(collapsed)
    assert collapsed.score("auroc")[0] == 0.5
    why = degenerate({"test": collapsed}, 32, "efficientnet_lite0")
    assert "receptive field of efficientnet_lite0" in why and "32 px" in why
    assert degenerate({"test": healthy}, 32, "efficientnet_lite0") is None
    record = SimpleNamespace(best_epoch=3, epochs=3, image_size=32, backbone="efficientnet_lite0", flags=None)
    assert set(record_flags(record, {"test": collapsed})) == {"degenerate", "still_improving"}
    record.best_epoch = 2
    assert record_flags(record, {"test": healthy}) == {}
    assert ceiling_tie({9: 1.0, 10: 1.0 - 7e-14, 11: 1.0 + 3e-14, 5: 0.8}) == [9, 10, 11]
    assert ceiling_tie({9: 0.91, 10: 0.90, 5: 0.8}) == [9]
    blank = Predictions("segmentation", np.arange(2).astype(str), counts=np.array([[[0], [0], [5]], [[0], [0], [3]]]))
    assert "no pixel" in collapse(blank)


def _record(strategy: str, seed: int, test: Predictions, cut: int = 16) -> dict:
    scores = {m: float(test.score(m)[0]) for m in ("auroc", "auprc")}
    return {"strategy": strategy, "backbone": "efficientnet_lite0", "cut": cut, "params": 1000 if cut < 16 else 3000,
            "macs": 10, "epochs": 3, "best_epoch": 2, "seconds": 1.0, "val": scores, "test": scores, "seed": seed,
            "image_size": 32, "weights": "none", "data": "synthetic", "task": "binary", "classes": ["a", "b"],
            "samples": {"train": N, "val": N, "test": N}, "notes": [], "recipe": "paper-2d", "lr": 1e-3,
            "monitor": "auprc", "trial": f"{strategy}-k{cut:03d}-s{seed}",
            "config": {"limit": None, "split_seed": 0, "image_size": 32, "weights": "none", "max_epochs": 3,
                       "batch_size": 32, "device": "cpu", "backbone": "efficientnet_lite0", "data": "synthetic",
                       "lr": 1e-3},
            "cost": {"cpu": {"latency_ms_median": 1.0, "batch_size": 1, "repeats": 30, "threads": 1}, "gpu": None}}


def test_comparison_report_gives_intervals_verdicts_and_flags(tmp_path: Path):
    models = {"ftl": (16, [predictions(1.6, s) for s in range(2)]), "ttl": (11, [predictions(2.6, 10 + s) for s in range(2)]),
              "linear": (16, [predictions(0.0, s) for s in range(2)])}
    keys = []
    for strategy, (cut, runs) in models.items():
        for seed, run in enumerate(runs):
            record = _record(strategy, seed, run, cut)
            write_json(tmp_path / "trials" / f"{record['trial']}.json", record)
            run.save(tmp_path / "trials" / f"{record['trial']}.predictions_test.npz")
            keys.append(record["trial"])
    write_json(tmp_path / "compare.json", {"strategies": list(models), "cuts": {s: c for s, (c, _) in models.items()},
                                           "repeats": 2, "threads": 1, "margin": 0.02, "trials": keys})
    markdown = write_comparison_tables(tmp_path)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["margin"] == 0.02 and report["seeds"] == 2 and report["samples"] == N
    verdicts = {(e["strategy"], e["metric"]): e["verdict"] for e in report["versus_ftl"]}
    assert verdicts == {("ttl", "auroc"): "superior", ("ttl", "auprc"): "superior",
                        ("linear", "auroc"): "inconclusive", ("linear", "auprc"): "inconclusive"}
    linear = [e for e in report["versus_ftl"] if e["strategy"] == "linear"]
    assert all("degenerate" in e["note"] for e in linear)  # chance by construction: no verdict
    assert "TTL (cut 11): AUROC superior, AUPRC superior" in report["headline"]
    assert "degenerate" in report["models"][2]["flags"]
    assert "± 0.0000" not in markdown and "N = 200 test samples" in markdown and "DeLong [" in markdown
    assert report["models"][1]["test"]["auroc"]["ci"][0] < report["models"][1]["test"]["auroc"]["mean"]


def test_csv_group_column_is_carried_to_the_splits(tmp_path: Path):
    rows = ["path,label,patient"]
    for i in range(40):
        label = "a" if i % 2 else "b"
        write_png(tmp_path / f"{i}.png", 30 if label == "a" else 170)
        rows.append(f"{i}.png,{label},p{i // 4}")
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    data = load_data(tmp_path / "m.csv", limit=20)
    for samples in data.splits().values():
        assert samples.groups is not None and len(samples.groups) == len(samples)
        by_file = {Path(p).stem: g for p, g in zip(samples.items, samples.groups)}
        assert all(g == f"p{int(stem) // 4}" for stem, g in by_file.items())
    assert data.classes == ["a", "b"] and any("patient" in note for note in data.notes)
