"""The evidence of a report, drawn from trial records and their kept predictions: each model's test scores
with their 95 % intervals, its flags, and its paired comparison against FTL with a verdict at the margin.

A model is one strategy at one cut over its repeats (seeds). Where every repeat kept its test predictions the
interval is the hierarchical bootstrap over test samples and seeds (``evidence.intervals``), with DeLong's for
a binary AUROC; where they were not kept (records made before predictions were), a t interval over the seeds
only, named as such; one repeat without predictions has no interval and says so."""

from __future__ import annotations

import numpy as np
from scipy.stats import t as student_t

from ..evidence import MARGIN, Predictions, compare, record_flags, score_interval, seed_interval, verdict
from ..record import TrialRecord
from ..tasks import score_label

BOOTSTRAP = "bootstrap over test samples and seeds"
ONE_SEED = "bootstrap over test samples (one seed: seed variation unknown)"
SEEDS_ONLY = "t interval over seeds only (no per-sample predictions kept)"
NONE = "none (one seed, no per-sample predictions kept)"


def model_evidence(records: list[TrialRecord], predictions: list[Predictions | None], metrics: tuple[str, ...],
                   split: str = "test", scores: list[dict] | None = None) -> dict:
    """One model's ``split`` evidence: ``scores`` = per metric ``mean``, ``std`` (population, over seeds), ``ci``,
    ``delong`` (binary AUROC with predictions), ``interval`` (how ``ci`` was made); ``seeds`` (n), ``samples``
    (N), ``groups``; ``flags`` (:func:`model_flags`). ``scores``: the split's scores per record where they are
    kept apart from the records (a search's test scores), else ``record[split]``."""
    scores = scores or [getattr(r, split) for r in records]
    kept = [p for p in predictions if p is not None]
    complete = len(kept) == len(records) and bool(records)
    result: dict = {"scores": {}, "seeds": len(records),
                    "samples": len(kept[0]) if complete else records[0].samples[split], "groups": None,
                    "flags": model_flags(records, predictions if complete else None)}
    for metric in metrics:
        values = [s[metric] for s in scores]
        entry = {"mean": float(np.mean(values)), "std": float(np.std(values))}
        if complete:
            interval = score_interval(kept, metric)
            result["groups"] = interval["groups"]
            entry.update(ci=interval["ci"], interval=BOOTSTRAP if len(kept) > 1 else ONE_SEED)
            if "delong" in interval:
                entry["delong"] = interval["delong"]
        else:
            entry.update(ci=seed_interval(values), interval=SEEDS_ONLY if len(values) > 1 else NONE)
        result["scores"][metric] = entry
    return result


def model_flags(records: list[TrialRecord], predictions: list[Predictions | None] | None) -> dict[str, str]:
    """The flags of a model's repeats, each with how many repeats raise it."""
    per_run = [record_flags(r, {"test": p} if p is not None else None)
               for r, p in zip(records, predictions or [None] * len(records))]
    flags = {}
    for name in sorted({n for f in per_run for n in f}):
        raised = [f[name] for f in per_run if name in f]
        flags[name] = f"{raised[0]} ({len(raised)} of {len(records)} repeat(s))"
    return flags


def versus_ftl(strategy: str, cut: int, runs: list[Predictions | None], ftl: list[Predictions | None],
               values: dict[str, tuple[list[float], list[float]]], margin: float = MARGIN,
               flags: tuple[str, ...] = ()) -> list[dict]:
    """The ``versus_ftl`` entries of one model: per metric, the paired difference against FTL with its 95 %
    interval, ``p_value`` (paired DeLong, binary AUROC only), ``margin`` and ``verdict``. ``values``: per
    metric (the model's seed scores, FTL's), used where predictions were not kept (an unpaired t interval over
    seeds, named in ``method``). A degenerate model (``flags``) gets the verdict inconclusive: its scores are
    not results."""
    entries = []
    paired = all(p is not None for p in runs + ftl) and bool(runs)
    for metric, (mine, theirs) in values.items():
        if paired:
            entry = compare(runs, ftl, metric, margin)
        else:
            entry = _seed_difference(metric, mine, theirs, margin)
        entry = {"strategy": strategy, "cut": cut, **entry}
        if "degenerate" in flags:
            entry.update(verdict="inconclusive", note="degenerate scores (collapsed features): no verdict")
        elif "no_truncation" in flags:
            entry.update(note="no truncation: the same network as FTL")
        entries.append(entry)
    return entries


def _seed_difference(metric: str, mine: list[float], theirs: list[float], margin: float) -> dict:
    """Difference of seed means with a Welch t interval over seeds, where predictions were not kept."""
    difference = float(np.mean(mine) - np.mean(theirs))
    if min(len(mine), len(theirs)) < 2:
        return {"metric": metric, "difference": difference, "ci": None, "p_value": None,
                "method": "none (one seed, no per-sample predictions kept)", "margin": margin,
                "verdict": "inconclusive"}
    se = float(np.sqrt(np.var(mine, ddof=1) / len(mine) + np.var(theirs, ddof=1) / len(theirs)))
    half = float(student_t.ppf(0.975, min(len(mine), len(theirs)) - 1)) * se
    low, high = max(-1.0, difference - half), min(1.0, difference + half)
    return {"metric": metric, "difference": difference, "ci": [low, high], "p_value": None,
            "method": "t interval over seeds only (no per-sample predictions kept)", "margin": margin,
            "verdict": verdict(low, high, margin)}


def fmt_score(entry: dict) -> str:
    """``0.9484 [0.9310, 0.9650]`` (never a bare ``± 0.0000``); DeLong's interval after it where known."""
    text = f"{entry['mean']:.4f} " + (f"[{entry['ci'][0]:.4f}, {entry['ci'][1]:.4f}]" if entry["ci"] else
                                      "(no interval)")
    if "delong" in entry:
        text += f" (DeLong [{entry['delong'][0]:.4f}, {entry['delong'][1]:.4f}])"
    return text


def fmt_difference(entry: dict) -> str:
    """``+0.0412 [+0.0100, +0.0700], p = 0.012: superior``."""
    ci = f"[{entry['ci'][0]:+.4f}, {entry['ci'][1]:+.4f}]" if entry["ci"] else "(no interval)"
    p = f", p = {entry['p_value']:.3g}" if entry["p_value"] is not None else ""
    return f"{entry['difference']:+.4f} {ci}{p}: **{entry['verdict']}**"


def model_name(strategy: str, cut: int) -> str:
    """``TTL (cut 11)``, ``Linear (cut 16)``, ``FTL``."""
    if strategy == "ftl":
        return "FTL"
    return f"{'Linear' if strategy == 'linear' else strategy.upper()} (cut {cut})"


def headline(entries: list[dict], margin: float, seeds: int, samples: int) -> str:
    """The report's headline: every model's verdict against FTL per metric, not its raw means."""
    by_model: dict[tuple[str, int], list[str]] = {}
    for e in entries:
        by_model.setdefault((e["strategy"], e["cut"]), []).append(f"{score_label(e['metric'])} {e['verdict']}")
    verdicts = "; ".join(f"{model_name(s, k)}: {', '.join(v)}" for (s, k), v in by_model.items())
    paired = all(e["method"].startswith("paired") for e in entries)
    how = "paired test difference" if paired else "difference over seeds only, test-sample error not included"
    one = "; one seed: the variation between trainings is not in the intervals" if seeds == 1 else ""
    return (f"Against FTL at margin δ = {margin:g} (95 % intervals of the {how}; n = {seeds} seed(s), N = {samples} "
            f"test samples{one}): {verdicts}.")


def evidence_lines(entries: list[dict]) -> list[str]:
    """The Markdown table of the ``versus_ftl`` entries."""
    lines = ["| model | metric | difference vs FTL [95 % CI] | method |", "|---|---|---|---|"]
    for e in entries:
        note = f" ({e['note']})" if "note" in e else ""
        lines.append(f"| {model_name(e['strategy'], e['cut'])} | {score_label(e['metric'])} | {fmt_difference(e)}{note} | "
                     f"{e['method']} |")
    return lines


def flag_lines(models: list[tuple[str, dict[str, str]]]) -> list[str]:
    """One bullet per flag of each model (``models``: (name, flags)); nothing where none is raised."""
    lines = [f"- **{name}: {flag.replace('_', ' ')}** — {text}" for name, flags in models
             for flag, text in flags.items()]
    return ["## Flags", "", *lines, ""] if lines else []


VERDICT_RULE = ("Verdicts: superior (lower bound > 0), non-inferior (lower bound > −δ), inferior (upper bound < −δ), "
                "else inconclusive.")


def reading(entries: list[dict]) -> str:
    """How the intervals of ``entries`` were made, and the verdict rule."""
    if all(e["method"].startswith("paired") for e in entries):
        how = ("Intervals: 95 %, " + BOOTSTRAP + " (hierarchical: test samples drawn stratified by class, whole "
               "groups where the data names them, the same draw for both models, and each model's seeds drawn with "
               "replacement), 2000 seeded resamples; paired DeLong for AUROC, with the seed variance of each mean "
               "added.")
    else:
        how = ("Intervals: 95 %, t over the seeds only, because these records keep no per-sample predictions: they "
               "leave out the test set's own sampling error, so they are too narrow where seeds agree, and the "
               "verdicts claim more certainty than the data gives.")
    return f"{how} {VERDICT_RULE}"
