"""``search``: find where to cut, train the compact model and FTL, keep every record, write the report.

Resumable: every trial and every analysis is persisted as soon as it is done; the same call on the same
directory skips what exists and ends with the same records and report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path

from ..backbones import load_backbone
from ..data import fingerprint
from ..engine import RunConfig, check_config, prepare
from ..engine.run import evaluate_checkpoint, spec_of, trials_cost
from ..evidence import check_margin
from ..record import TrialRecord
from ..report.search import REPORT_FILES, write_search_report
from ..strategies import get_strategy
from ..tasks import get_task, score_label, task_of_kind
from .estimate import ESTIMATORS
from .executors import check_executor, resolve_device, run_trials
from .exhaustive import exhaustive
from .session import FTL, SELECT_RULES, Choice, SearchSettings, Session
from .store import STORE_CONFIG, Trial, TrialStore, check_identity, trial_config
from .svcca_guided import RULES, svcca_guided
from .two_stage import two_stage

METHODS: dict[str, Callable[[Session, SearchSettings], Choice]] = {
    "two-stage": two_stage, "svcca": svcca_guided, "exhaustive": exhaustive, **ESTIMATORS}
# Methods that rank cut points by trained models only (every task has them).
TRAINING_METHODS = ("two-stage", "exhaustive")
SEARCH_RECORD = "search"
COST_RECORD = "cost"
TEST_RECORD = "test"


def check_settings(settings: SearchSettings) -> None:
    if settings.method not in METHODS:
        raise ValueError(f"unknown --method {settings.method!r}; choose one of {', '.join(METHODS)}")
    try:
        strategy = get_strategy(settings.strategy)
    except ValueError as err:
        raise ValueError(f"--strategy: {err}") from err
    if not strategy.uses_cut:
        raise ValueError(f"--strategy {settings.strategy} uses no cut point; search ttl, tf or lwft")
    if settings.repeats < 1:
        raise ValueError(f"--repeats must be at least 1, got {settings.repeats}")
    if settings.radius < 0:
        raise ValueError(f"--radius must be 0 or more, got {settings.radius}")
    if not 0 < settings.overlap_threshold <= 1:
        raise ValueError(f"--overlap-threshold must lie in (0, 1], got {settings.overlap_threshold}")
    if settings.select not in SELECT_RULES:
        raise ValueError(f"unknown --select {settings.select!r}; choose one of {', '.join(SELECT_RULES)}")
    check_margin(settings.margin)
    if settings.svcca_rule not in RULES:
        raise ValueError(f"unknown --svcca-rule {settings.svcca_rule!r}; choose one of {', '.join(RULES)}")
    check_executor(settings.executor, settings.workers)


def identity(base: RunConfig, settings: SearchSettings) -> dict:
    """What makes two searches' trials interchangeable: the training settings (not the per-trial seed,
    strategy and cut), the method and its own parameters; not where the trials run, nor their memory format."""
    values = {k: v for k, v in asdict(base).items() if k not in ("seed", "strategy", "cut", "memory_format")}
    values.update(method=settings.method, strategy=settings.strategy, repeats=settings.repeats,
                  test_every_cut=settings.test_every_cut)
    if settings.method == "two-stage":
        values["radius"] = settings.radius
    if settings.method == "svcca":
        values.update(overlap_threshold=settings.overlap_threshold, svcca_rule=settings.svcca_rule)
    return values


def check_out(out: Path) -> None:
    """A search writes into an empty or missing directory, or resumes one that holds a search."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / STORE_CONFIG).is_file())):
        raise FileExistsError(f"--out {out} exists and holds no search; choose another directory")


def search(base: RunConfig, settings: SearchSettings, out: Path, force: bool = False,
           progress: Callable[[str], None] | None = None, show: Callable[[dict], None] | None = None) -> dict:
    """Run (or resume) the search in ``out``; returns the report (``report.json``'s content), which ``show``
    gets before it is written.

    ``base`` gives the data and training settings; its strategy, cut and seed are set per trial.
    ``base.device`` may be ``auto``. Everything is checked before anything is written; the data's fingerprint
    is kept in the store, and a resume on changed data is refused (``force``: start over)."""
    out = Path(out)
    check_settings(settings)
    task = get_task(base.task)
    if not task.feature_search and settings.method not in TRAINING_METHODS:
        raise ValueError(f"--method {settings.method} reads pooled features with class labels; {task.name} searches "
                         f"train: --method {' or '.join(TRAINING_METHODS)}")
    base = replace(base, device=resolve_device(base.device, settings.executor, settings.ray_address))
    check_config(replace(base, strategy=settings.strategy, cut=0))
    check_out(out)
    key = identity(base, settings)
    check_identity(out, key, force)
    prepared = prepare(base, out / "cache")
    store = TrialStore(out, key, force, data=fingerprint(prepared.data))
    if store.started_over:
        for name in REPORT_FILES:
            (out / name).unlink(missing_ok=True)
    run = partial(run_trials, base=base, store=store, executor=settings.executor, prepared=prepared,
                  progress=progress, workers=settings.workers, ray_address=settings.ray_address,
                  evaluate_test=settings.test_every_cut)
    session = Session(base, settings, store, prepared, run)
    choice = METHODS[settings.method](session, settings)
    chosen, ftl = session.trials(choice.cut), session.ftl_trials()
    both = list(dict.fromkeys(ftl + chosen))  # the chosen cut may build FTL's very network (no truncation)
    records = {r.trial: r for r in session.run(both)}
    score_test(store, base, prepared, both, progress)
    cost = store.fetch(COST_RECORD)
    if cost is None or "ratio" not in cost["chosen"]["cpu"]:
        store.put(COST_RECORD, measure_cost(out, {"chosen": records[chosen[0].key], FTL: records[ftl[0].key]}))
    store.put(SEARCH_RECORD, {
        "method": settings.method, "strategy": settings.strategy, "settings": asdict(settings),
        "base": asdict(base), "chosen_cut": choice.cut, "reason": choice.reason, "best_cut": choice.best_cut,
        "select": settings.select if settings.method in TRAINING_METHODS else None,
        "no_truncation": sorted(k for k in session.checked_cuts() if session.no_truncation(k)),
        "scores_by_cut": [{"cut": k, "score": v} for k, v in sorted(choice.scores_by_cut.items())],
        "stages": [asdict(s) for s in session.stages],
        "chosen_trials": [t.key for t in chosen], "ftl_trials": [t.key for t in ftl]})
    return write_search_report(out, show)


def score_test(store: TrialStore, base: RunConfig, prepared, trials: list[Trial],
               progress: Callable[[str], None] | None = None) -> None:
    """The test split, read once at the end: scores of ``trials`` (the chosen model's and FTL's repeats) from
    their saved best checkpoints, no retraining, kept in ``records/test.json`` (trial key → scores), each
    shown through ``progress`` before it is kept."""
    saved = store.fetch(TEST_RECORD) or {}
    missing = [t for t in trials if t.key not in saved]
    for trial in missing:
        record, config = store.get(trial), trial_config(base, trial)
        saved[trial.key], predictions = evaluate_checkpoint(config, spec_of(config, record),
                                                            store.root / record.checkpoint, prepared, "test")
        if predictions is not None:
            predictions.save(store.predictions_path(trial, "test"))
        if progress is not None:
            scores = saved[trial.key]
            progress(f"{trial.key}: test " + "  ".join(f"{score_label(m)} {scores[m]:.4f}"
                                                       for m in task_of_kind(prepared.data.kind).shown))
    if missing:
        store.put(TEST_RECORD, saved)


def measure_cost(out: Path, records: dict[str, TrialRecord]) -> dict:
    """Parameters, MACs and latency (batch 1; CPU with one thread, steadier on a shared machine; GPU where
    there is one) of the chosen model and of FTL, timed side by side in one process (the chosen model's record
    holds its latency ratio to FTL) and kept so the report is redrawn from records. ``records``: the seed-0
    trial record of each."""
    backbone = load_backbone(next(iter(records.values())).backbone, "none")
    return trials_cost(records, out, backbone, threads=1, reference={"chosen": FTL})
