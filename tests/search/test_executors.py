import json
import sys

import pytest

from truncatedtl.search import Trial, TrialStore, run_trials

from .tiny import tiny_base, without_timing

TRIALS = [Trial("ftl", 8, 0), Trial("ttl", 2, 0), Trial("ttl", 2, 1)]


def test_worker_processes_give_the_same_records(tmp_path):
    """Two trials on two spawned workers: each worker trains one, the records come back in the trials' order."""
    trials = TRIALS[1:]
    serial = run_trials(trials, tiny_base(), TrialStore(tmp_path / "serial", {"x": 1}))
    parallel = run_trials(trials, tiny_base(), TrialStore(tmp_path / "parallel", {"x": 1}), workers=2)
    assert without_timing([r.to_dict() for r in parallel]) == without_timing([r.to_dict() for r in serial])
    assert [r.trial for r in parallel] == [t.key for t in trials]


def test_finished_trials_are_not_trained_again(tmp_path):
    store = TrialStore(tmp_path, {"x": 1})
    first = run_trials(TRIALS[:1], tiny_base(), store)
    seen = []
    again = run_trials(TRIALS[:1], tiny_base(), store, progress=seen.append)
    assert again == first and seen == []


@pytest.mark.parametrize(("options", "message"), [({"executor": "slurm"}, "--executor"), ({"workers": 0}, "--workers")])
def test_bad_executor_options_are_named(tmp_path, options, message):
    with pytest.raises(ValueError, match=message):
        run_trials(TRIALS, tiny_base(), TrialStore(tmp_path, {"x": 1}), **options)
    assert not list((tmp_path / "trials").iterdir())


def test_a_store_refuses_another_configuration_unless_forced(tmp_path):
    store = TrialStore(tmp_path, {"lr": 1e-4})
    store.put("note", {"a": 1})
    (store.trials_dir / "ftl-k008-s0.json").write_text(json.dumps({"trial": "ftl-k008-s0"}))
    with pytest.raises(FileExistsError, match="differs in: lr.*--force"):
        TrialStore(tmp_path, {"lr": 1e-3})
    assert TrialStore(tmp_path, {"lr": 1e-4}).fetch("note") == {"a": 1}
    forced = TrialStore(tmp_path, {"lr": 1e-3}, force=True)
    assert forced.started_over and forced.records() == [] and forced.fetch("note") is None


def test_ray_missing_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    with pytest.raises(ValueError, match=r"pip install 'truncatedtl\[ray\]'"):
        run_trials(TRIALS, tiny_base(), TrialStore(tmp_path, {"x": 1}), executor="ray")
