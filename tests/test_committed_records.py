"""Records committed under docs/results (some written before records kept recipe, LR and monitor) load as typed
trial records, and the rows of their comparison tables redraw from them alone, as they read today."""

from pathlib import Path

import pytest

from truncatedtl.record import TrialRecord, read_record
from truncatedtl.report.comparison import comparison_rows, read_comparison, table_csv
from truncatedtl.tasks import task_of_kind

RESULTS = Path(__file__).parent.parent / "docs" / "results"
TRIALS = sorted(RESULTS.glob("**/trials/*.json"))
COMPARISONS = sorted(p.parent for p in RESULTS.glob("*/compare.json"))


def test_every_committed_trial_record_loads():
    assert len(TRIALS) > 100
    records = [read_record(p) for p in TRIALS]
    assert all(isinstance(r, TrialRecord) and r.trial in (None, p.stem) for r, p in zip(records, TRIALS))


@pytest.mark.parametrize("directory", COMPARISONS, ids=[p.name for p in COMPARISONS])
def test_committed_comparisons_redraw_their_rows(directory):
    comparison, records = read_comparison(directory)
    rows = comparison_rows(comparison, records)
    assert table_csv(rows, task_of_kind(records[0].task).shown) == (directory / "table.csv").read_text()
