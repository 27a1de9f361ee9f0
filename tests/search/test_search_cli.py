import json

import pytest

from .tiny import TINY_ARGS


def test_search_writes_the_report_and_ttl_report_redraws_it(tmp_path, run_cli):
    out = tmp_path / "s"
    code, stdout, stderr = run_cli("search", *TINY_ARGS, "--method", "two-stage", "--radius", "0", "--out", out)
    assert code == 0, stderr
    report = json.loads((out / "report.json").read_text())
    # four trainings: ttl at cut 8 is FTL's network, trained once
    assert report["method"] == "two-stage" and report["trials"] == 4 and report["chosen_cut"] in (2, 4, 6, 8)
    for model in ("chosen", "ftl"):
        assert set(report[model]["val"]) == set(report[model]["test"]) == {"auroc", "auprc"}
        assert set(report[model]["val"]["auprc"]) == {"mean", "std", "ci"}  # one repeat: its bootstrap interval
        assert {"mean", "std", "ci", "delong", "interval"} <= set(report[model]["test"]["auroc"])
        assert report[model]["seeds"] == 1 and report[model]["samples"] == 32
    assert [(e["metric"], e["margin"]) for e in report["versus_ftl"]] == [("auroc", 0.02), ("auprc", 0.02)]
    for entry in report["versus_ftl"]:
        assert {"strategy", "cut", "metric", "difference", "ci", "p_value", "margin", "verdict"} <= set(entry)
        assert entry["verdict"] in ("superior", "non-inferior", "inferior", "inconclusive")
    assert report["select"] == "smallest-within-noise" and report["best_cut"] in (2, 4, 6, 8)
    markdown = (out / "report.md").read_text()
    assert "± 0.0000" not in markdown and "N = 32 test samples" in markdown and "n = 1 seed(s)" in markdown
    assert report["ratios"]["params"] < 1 or report["chosen_cut"] == 8
    assert f"chosen cut: {report['chosen_cut']}" in stdout
    assert (out / "auprc_by_cut.png").stat().st_size > 0 and "## Trials" in (out / "report.md").read_text()

    code, stdout, _ = run_cli("search", *TINY_ARGS, "--method", "two-stage", "--radius", "0", "--out", out)
    assert code == 0 and not [line for line in stdout.splitlines() if line.startswith("training ")]

    for name in ("report.json", "report.md", "auprc_by_cut.png"):
        (out / name).unlink()
    code, stdout, _ = run_cli("report", out)
    assert code == 0 and json.loads((out / "report.json").read_text()) == report
    assert (out / "auprc_by_cut.png").is_file()


@pytest.mark.parametrize(("args", "message"), [
    (["--method", "grid"], "--method 'grid'"),
    (["--method", "two-stage", "--repeats", "0"], "--repeats"),
    (["--method", "two-stage", "--radius", "-1"], "--radius"),
    (["--method", "svcca", "--overlap-threshold", "1.5"], "--overlap-threshold"),
    (["--method", "svcca", "--svcca-rule", "middle"], "--svcca-rule"),
    (["--method", "two-stage", "--strategy", "ftl"], "--strategy ftl"),
    (["--method", "two-stage", "--executor", "slurm"], "--executor"),
    (["--method", "two-stage", "--workers", "0"], "--workers"),
    (["--method", "two-stage", "--executor", "ray", "--workers", "2"], "--workers is for the local"),
])
def test_bad_options_are_named_and_nothing_is_written(tmp_path, run_cli, args, message):
    out = tmp_path / "s"
    base = TINY_ARGS[:-2]  # without --repeats
    code, _, stderr = run_cli("search", *base, *args, "--out", out)
    assert code == 2 and message in stderr
    assert not out.exists()


def test_foreign_and_mismatched_directories_are_refused(tmp_path, run_cli):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    code, _, stderr = run_cli("search", *TINY_ARGS, "--method", "two-stage", "--out", foreign)
    assert code == 2 and "holds no search" in stderr and sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]

    out = tmp_path / "s"
    (out / "trials").mkdir(parents=True)
    (out / "store.json").write_text(json.dumps({"hash": "0", "identity": {"lr": 0.5}}))
    code, _, stderr = run_cli("search", *TINY_ARGS, "--method", "two-stage", "--out", out)
    assert code == 2 and "another configuration" in stderr and "--force" in stderr
