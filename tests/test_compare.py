"""``ttl compare`` and ``ttl report``: the table's contract, one record per trained model, redrawing from the
records alone, resuming after a kill with identical results, and clear errors that leave nothing behind."""

import csv
import json
import shutil
import sys
from pathlib import Path

import pytest
import torch

from truncatedtl.cli.compare import parse_cuts
from truncatedtl.report.comparison import columns

ARGS = ("--data", "synthetic", "--backbone", "resnet18", "--strategies", "linear,tf,ttl", "--cut", "4,ttl=6",
        "--repeats", "2", "--image-size", "32", "--max-epochs", "1", "--limit", "16", "--weights", "none")


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> Path:
    from truncatedtl.cli import main

    out = tmp_path_factory.mktemp("compare") / "cmp"
    argv, sys.argv = sys.argv, ["ttl", "compare", *ARGS, "--out", str(out)]
    try:
        main()
    except SystemExit as stop:
        assert not stop.code, f"ttl compare exited with {stop.code}"
    finally:
        sys.argv = argv
    return out


def _rows(out: Path) -> list[dict]:
    return list(csv.DictReader(open(out / "table.csv")))


def test_table_has_one_row_per_strategy_with_the_contract_columns(compared):
    with open(compared / "table.csv") as handle:
        assert tuple(next(csv.reader(handle))) == columns(("auroc", "auprc"))
    rows = _rows(compared)
    assert [(r["strategy"], r["cut"]) for r in rows] == [("linear", "8"), ("tf", "4"), ("ttl", "6")]
    assert all(r["params"].isdigit() and r["macs"].isdigit() for r in rows)
    assert all(float(r["cpu_ms"]) > 0 for r in rows)
    assert all((r["gpu_ms"] == "") != torch.cuda.is_available() for r in rows)
    assert int(rows[2]["params"]) < int(rows[1]["params"]) < int(rows[0]["params"])
    text = (compared / "table.md").read_text()
    assert "CPU with 1 thread(s)" in text and "seeds 0, 1" in text


def test_one_record_per_trained_model_each_repeat_its_own_seed(compared):
    records = [json.loads(p.read_text()) for p in sorted((compared / "trials").glob("*.json"))]
    assert sorted((r["strategy"], r["seed"]) for r in records) == [
        (s, seed) for s in ("linear", "tf", "ttl") for seed in (0, 1)]
    assert all(r["cost"]["cpu"]["batch_size"] == 1 and r["cost"]["cpu"]["threads"] == 1 for r in records)
    tf = [r for r in records if r["strategy"] == "tf"]
    assert tf[0]["test"] != tf[1]["test"] or tf[0]["val"] != tf[1]["val"]


def test_report_redraws_the_same_table_from_the_records(compared, run_cli):
    before = (compared / "table.csv").read_text()
    (compared / "table.csv").unlink()
    (compared / "table.md").unlink()
    code, out, _ = run_cli("report", compared)
    assert code == 0 and "| tf | 4 |" in out
    assert (compared / "table.csv").read_text() == before


def test_a_killed_comparison_resumes_with_identical_results(compared, run_cli, tmp_path):
    out = tmp_path / "cmp"
    shutil.copytree(compared, out)
    (out / "trials" / "tf-k004-s1.json").unlink()
    before = _rows(compared)
    code, _, err = run_cli("compare", *ARGS, "--out", out)
    assert code == 0, err
    assert "training 1 trial(s): tf-k004-s1" in err
    after = _rows(out)
    scores = ("strategy", "cut", "auroc_mean", "auroc_std", "auprc_mean", "auprc_std", "params", "macs")
    assert [[r[k] for k in scores] for r in after] == [[r[k] for k in scores] for r in before]


@pytest.mark.parametrize("args, message", [
    (("--strategies", "ftl,lwfx"), "--strategies: unknown strategy 'lwfx'"),
    (("--strategies", "ttl,ttl", "--cut", "2"), "--strategies names ttl more than once"),
    (("--strategies", "ftl,ttl"), "--cut for ttl: strategy ttl needs a cut point"),
    (("--strategies", "ttl", "--cut", "99"), "--cut for ttl: cut point 99 is out of range"),
    (("--strategies", "ftl,ttl", "--cut", "ftl=3,ttl=2"), "--cut ftl=3: strategy ftl trains the full network"),
    (("--strategies", "ttl", "--cut", "tf=3"), "--cut gives a cut for tf, which --strategies does not name"),
    (("--strategies", "ttl", "--cut", "ttl=x"), "is neither K nor NAME=K"),
    (("--strategies", "ttl", "--cut", "2", "--repeats", "0"), "--repeats must be at least 1"),
])
def test_bad_options_get_a_clear_error_and_nothing_is_written(run_cli, tmp_path, args, message):
    out = tmp_path / "cmp"
    code, _, err = run_cli("compare", "--data", "synthetic", "--backbone", "resnet18", "--weights", "none",
                           *args, "--out", out)
    assert code == 2 and message in err
    assert not out.exists()


def test_parse_cuts():
    assert parse_cuts(None) == (None, {})
    assert parse_cuts("13") == (13, {})
    assert parse_cuts("11, ttl=11,tf=13") == (11, {"ttl": 11, "tf": 13})
    with pytest.raises(ValueError, match="gives ttl two cuts"):
        parse_cuts("ttl=1,ttl=2")


def test_report_on_a_directory_it_does_not_know(run_cli, tmp_path):
    code, _, err = run_cli("report", tmp_path)
    assert code == 2 and "is not a directory ttl report knows" in err
