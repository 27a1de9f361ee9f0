"""Records committed under docs/results (some written before records kept recipe, LR and monitor) load as typed
trial records, and the rows of their comparison tables redraw from them alone, as they read today."""

import shutil
from pathlib import Path

import pytest

from truncatedtl.record import TrialRecord, read_record
from truncatedtl.report.comparison import write_comparison_tables

RESULTS = Path(__file__).parent.parent / "docs" / "results"
TRIALS = sorted(RESULTS.glob("**/trials/*.json"))
COMPARISONS = sorted(p.parent for p in RESULTS.glob("*/compare.json"))


def test_every_committed_trial_record_loads():
    assert len(TRIALS) > 100
    records = [read_record(p) for p in TRIALS]
    assert all(isinstance(r, TrialRecord) and r.trial in (None, p.stem) for r, p in zip(records, TRIALS))


@pytest.mark.parametrize("directory", COMPARISONS, ids=[p.name for p in COMPARISONS])
def test_committed_comparisons_redraw_their_rows(directory, tmp_path):
    copy = shutil.copytree(directory, tmp_path / directory.name)
    write_comparison_tables(copy)
    for name in ("table.csv", "table.md"):
        assert (copy / name).read_text() == (directory / name).read_text(), name
