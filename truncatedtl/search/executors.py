"""Running trials: one after another in this process (``local``) or as Ray tasks (``ray``).

Every executor skips trials the store already holds and persists each one as soon as it finishes."""

from __future__ import annotations

from ..engine import Prepared, RunConfig, prepare, train
from .store import Trial, TrialStore, trial_config


def run_trials(trials: list[Trial], base: RunConfig, store: TrialStore, executor: str = "local",
               prepared: Prepared | None = None, progress=None) -> list[dict]:
    """Train every trial not yet in ``store``; returns the records of all ``trials`` in their order."""
    if executor != "local":
        raise ValueError(f"unknown executor {executor!r}; choose local")
    todo = [t for t in trials if store.get(t) is None]
    if todo:
        prepared = prepared or prepare(base)
        for i, trial in enumerate(todo, start=1):
            if progress is not None:
                progress(f"[{i}/{len(todo)}] {trial.key}")
            store.save(trial, train(trial_config(base, trial), prepared))
    return [store.get(t) for t in trials]
