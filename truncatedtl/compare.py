"""Strategies side by side (``ttl compare``): every strategy x repeat trained through the resumable trial store,
then the trained models' costs measured side by side in one process (latency ratios to FTL of the same seed,
interleaved) into each trial record, so the table is redrawn from records alone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import torch

from .backbones import Backbone
from .data import fingerprint
from .engine import RunConfig, prepare
from .engine.run import check_model, trials_cost
from .evidence import MARGIN, check_margin
from .files import write_json
from .record import Trial, TrialRecord
from .report.comparison import COMPARISON_FILE, Comparison
from .search import TrialStore, run_trials
from .search.store import STORE_CONFIG
from .strategies import get_strategy


def plan_comparison(backbone: Backbone, strategies: list[str], cuts: dict[str, int], default_cut: int | None,
                    repeats: int, threads: int = 1, margin: float = MARGIN) -> Comparison:
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
    check_margin(margin)
    return Comparison(tuple(strategies), resolved, repeats, threads, margin)


def comparison_identity(base: RunConfig) -> dict:
    """What makes trials of two comparisons interchangeable: every setting but strategy, cut, seed and the
    memory format (which changes speed, not results)."""
    values = asdict(base)
    for key in ("strategy", "cut", "seed", "memory_format"):
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
    records = {trial.key: store.get(trial) for trial in trials}
    if any(_needs_cost(record, comparison.threads) for record in records.values()):
        if progress is not None:
            progress(f"measuring the latency of {len(trials)} models side by side")
        costs = trials_cost(records, out, prepared.backbone, comparison.threads, ftl_references(trials))
        for trial in trials:
            store.update(trial, replace(records[trial.key], cost=costs[trial.key]))
    return [store.get(t) for t in trials]


def ftl_references(trials: list[Trial]) -> dict[str, str]:
    """Each trial's FTL trial of the same seed, the model its latency is compared with (none without FTL)."""
    ftl = {t.seed: t.key for t in trials if t.strategy == "ftl"}
    return {t.key: ftl[t.seed] for t in trials if t.seed in ftl}


def _needs_cost(record: TrialRecord, threads: int) -> bool:
    cost = record.cost
    return (cost is None or cost["cpu"]["threads"] != threads or "rounds" not in cost["cpu"]
            or (cost["gpu"] is None and torch.cuda.is_available()))
