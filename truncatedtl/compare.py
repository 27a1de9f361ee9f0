"""Strategies side by side (``ttl compare``): every strategy x repeat trained through the resumable trial store,
then each trained model's cost measured into its own trial record, so the table is redrawn from records alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import torch

from .backbones import Backbone
from .data import fingerprint
from .engine import RunConfig, prepare
from .engine.run import check_model, trial_cost
from .files import write_json
from .record import TrialRecord
from .report.comparison import COMPARISON_FILE, Comparison
from .search import TrialStore, run_trials
from .search.store import STORE_CONFIG
from .strategies import get_strategy


def plan_comparison(backbone: Backbone, strategies: list[str], cuts: dict[str, int], default_cut: int | None,
                    repeats: int, threads: int = 1) -> Comparison:
    """Check the strategies and their cut points (``cuts`` per strategy, else ``default_cut``) on ``backbone``."""
    if not strategies:
        raise ValueError("--strategies names no strategy")
    twice = sorted({s for s in strategies if strategies.count(s) > 1})
    if twice:
        raise ValueError(f"--strategies names {', '.join(twice)} more than once")
    for name in [*strategies, *cuts]:
        try:
            get_strategy(name)
        except ValueError as err:
            raise ValueError(f"--{'strategies' if name in strategies else 'cut'}: {err}") from err
    stray = sorted(set(cuts) - set(strategies))
    if stray:
        raise ValueError(f"--cut gives a cut for {', '.join(stray)}, which --strategies does not name")
    resolved = {}
    for name in strategies:
        strategy = get_strategy(name)
        if name in cuts and not strategy.uses_cut:
            raise ValueError(f"--cut {name}={cuts[name]}: strategy {name} trains the full network and takes no cut")
        try:
            resolved[name] = strategy.resolve_cut(backbone, cuts.get(name, default_cut))
        except ValueError as err:
            raise ValueError(f"--cut for {name}: {err}") from err
    if repeats < 1:
        raise ValueError(f"--repeats must be at least 1, got {repeats}")
    if threads < 1:
        raise ValueError(f"--threads must be at least 1, got {threads}")
    return Comparison(tuple(strategies), resolved, repeats, threads)


def comparison_identity(base: RunConfig) -> dict:
    """What makes trials of two comparisons interchangeable: every setting but strategy, cut and seed."""
    values = asdict(base)
    for key in ("strategy", "cut", "seed"):
        values.pop(key)
    return {"command": "compare", **values}


def run_comparison(base: RunConfig, comparison: Comparison, out: Path, force: bool = False,
                   progress: Callable[[str], None] | None = None) -> list[TrialRecord]:
    """Train every trial of ``comparison`` not yet in ``out`` and measure each model's cost; returns the
    trial records in table order. Options, models, data, weights and the directory are checked before anything
    is written (strategies and cuts were checked by :func:`plan_comparison`); killed at any moment, the same call
    resumes."""
    out = Path(out)
    trials = comparison.trials()
    base.validate()
    for strategy, cut in comparison.cuts.items():
        check_model(replace(base, strategy=strategy, cut=cut))
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / STORE_CONFIG).is_file())):
        raise FileExistsError(f"--out {out} exists and is not a comparison directory; choose another --out")
    prepared = prepare(base, out / "cache")
    store = TrialStore(out, comparison_identity(base), force, data=fingerprint(prepared.data))
    write_json(out / COMPARISON_FILE, {**asdict(comparison), "trials": [t.key for t in trials]})
    run_trials(trials, base, store, prepared=prepared, progress=progress)
    for trial in trials:
        record = store.get(trial)
        if _needs_cost(record, comparison.threads):
            if progress is not None:
                progress(f"measuring latency of {trial.key}")
            store.update(trial, replace(record, cost=trial_cost(record, out, prepared.backbone,
                                                                comparison.threads)))
    return [store.get(t) for t in trials]


def _needs_cost(record: TrialRecord, threads: int) -> bool:
    cost = record.cost
    return (cost is None or cost["cpu"]["threads"] != threads
            or (cost["gpu"] is None and torch.cuda.is_available()))
