"""Intervals and paired comparisons of models from their kept predictions (:class:`Predictions`), one model
being one or several seeds (repeats) scored on the same samples.

How the interval covers both sources of variation (hierarchical bootstrap): each of ``RESAMPLES`` resamples
draws the test samples (stratified by class, whole groups where the data names them; the same draw for every
seed and for both models of a comparison: paired) and, independently, the seeds with replacement; its value is
the mean over the drawn seeds of their scores on the drawn samples. The 2.5–97.5 % percentiles are the 95 %
interval. With one seed it covers the test samples only; the report says so. DeLong's interval (binary AUROC) adds
the seed variance of the mean, s²/n, to DeLong's variance of the seed-averaged components."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .predictions import Predictions
from .stats import (
    delong_difference,
    delong_interval,
    percentile_interval,
    resample_weights,
    seed_mean_resamples,
    verdict,
)

RESAMPLES = 2000
SEED = 0
MARGIN = 0.02


def check_margin(margin: float) -> None:
    """``--margin`` δ: a finite difference of 0 or more, below 1 (scores lie in [0, 1])."""
    if not (np.isfinite(margin) and 0 <= margin < 1):
        raise ValueError(f"--margin must lie in [0, 1) (the largest loss against FTL still called non-inferior), "
                         f"got {margin}")


def check_paired(runs: list[Predictions], what: str = "the models") -> None:
    """Every run must hold the same samples in the same order (ids), else a paired comparison is meaningless."""
    first = runs[0]
    for run in runs[1:]:
        if run.kind != first.kind or len(run) != len(first) or not np.array_equal(run.ids, first.ids):
            raise ValueError(f"{what} were not scored on the same samples ({len(first)} {first.kind} vs {len(run)} "
                             f"{run.kind}, or other ids): a paired interval needs the same split")


# Resamples are drawn in chunks of at most this many weights (B × N), so that a large test set fits in memory.
CHUNK = 4_000_000


def bootstrap_weights(runs: list[Predictions], resamples: int = RESAMPLES, seed: int = SEED) -> Iterator[np.ndarray]:
    """(b, N) resample counts of the samples the runs share, chunk by chunk (``resamples`` in all, the same for
    the same ``seed``): stratified by class, whole groups where named."""
    first = runs[0]
    rng = np.random.default_rng(seed)
    step = max(1, CHUNK // max(1, len(first)))
    for start in range(0, resamples, step):
        yield resample_weights(min(step, resamples - start), first.strata(), first.groups, rng)


def _per_seed(models: list[list[Predictions]], metric: str, chunks: Iterator[np.ndarray]) -> list[np.ndarray]:
    """Per model, (seeds, B): each of its runs' ``metric`` on every resample (the same resamples for all)."""
    values: list[list[list[np.ndarray]]] = [[[] for _ in runs] for runs in models]
    for weights in chunks:
        for model, runs in zip(values, models):
            for kept, run in zip(model, runs):
                kept.append(run.score(metric, weights))
    return [np.stack([np.concatenate(kept) for kept in model]) for model in values]


def score_interval(runs: list[Predictions], metric: str, resamples: int = RESAMPLES, seed: int = SEED) -> dict:
    """The 95 % interval of one model's seed-mean ``metric``: ``estimate`` (mean over seeds), ``ci`` [low, high]
    (hierarchical bootstrap), ``seeds`` (n), ``samples`` (N), ``groups`` (number of groups, or None), and for
    a binary AUROC ``delong`` [low, high]."""
    check_paired(runs)
    (values,) = _per_seed([runs], metric, bootstrap_weights(runs, resamples, seed))
    resampled = seed_mean_resamples(values, np.random.default_rng(seed + 1))
    estimate = float(np.mean([run.score(metric)[0] for run in runs]))
    result = {"estimate": estimate, "ci": list(percentile_interval(resampled)),
              "seeds": len(runs), "samples": len(runs[0]), "groups": _groups(runs[0])}
    if metric == "auroc" and runs[0].kind == "binary":
        scores, positive = _binary(runs)
        d = delong_interval(scores, positive)
        result["delong"] = [d["low"], d["high"]]
    return result


def split_intervals(predictions: Predictions, resamples: int = RESAMPLES) -> dict[str, list[float]]:
    """``{metric: [low, high]}``: the 95 % bootstrap interval of each score of one model on one split."""
    return {m: score_interval([predictions], m, resamples)["ci"] for m in predictions.metrics}


def compare(runs: list[Predictions], reference: list[Predictions], metric: str, margin: float = MARGIN,
            resamples: int = RESAMPLES, seed: int = SEED) -> dict:
    """Paired comparison of ``runs`` against ``reference`` (e.g. a strategy against FTL) on the same samples:
    ``difference`` (seed-mean ``metric`` of runs − of reference), ``ci`` [low, high], ``p_value`` (paired DeLong
    for a binary AUROC, else None), ``method``, ``margin`` and the ``verdict`` at that margin. A binary AUROC
    uses paired DeLong; every other metric the paired hierarchical bootstrap (the same sample resamples for
    both models, each model's seeds drawn on their own)."""
    check_paired([*runs, *reference], "the compared models")
    if metric == "auroc" and runs[0].kind == "binary":
        scores, positive = _binary(runs)
        d = delong_difference(scores, _binary(reference)[0], positive)
        difference, low, high, p_value, method = d["difference"], d["low"], d["high"], d["p_value"], "paired DeLong"
    else:
        mine, theirs = _per_seed([runs, reference], metric, bootstrap_weights(runs, resamples, seed))
        resampled = (seed_mean_resamples(mine, np.random.default_rng(seed + 1))
                     - seed_mean_resamples(theirs, np.random.default_rng(seed + 2)))
        low, high = percentile_interval(resampled)
        difference = float(np.mean([r.score(metric)[0] for r in runs]) -
                           np.mean([r.score(metric)[0] for r in reference]))
        p_value, method = None, "paired bootstrap"
    return {"metric": metric, "difference": difference, "ci": [low, high], "p_value": p_value, "method": method,
            "margin": margin, "verdict": verdict(low, high, margin)}


def standard_error(runs: list[Predictions] | None, values: list[float], metric: str,
                   resamples: int = RESAMPLES, seed: int = SEED) -> float | None:
    """Standard error of a model's mean ``metric``: over its seeds (``values``, sample std / √n) where there
    are several, else the bootstrap std over its samples (``runs``: its one run's predictions); None where
    neither is known."""
    if len(values) > 1:
        return float(np.std(values, ddof=1) / np.sqrt(len(values)))
    if not runs:
        return None
    (values,) = _per_seed([runs[:1]], metric, bootstrap_weights(runs, resamples, seed))
    return float(np.nanstd(values[0], ddof=1))


def seed_interval(values: list[float]) -> list[float] | None:
    """A t interval over seeds only (``values``: one score per seed, in [0, 1]; the interval clipped to it), for
    records kept without predictions; None for one seed (no spread is known)."""
    from scipy.stats import t

    if len(values) < 2:
        return None
    half = float(t.ppf(0.975, len(values) - 1) * np.std(values, ddof=1) / np.sqrt(len(values)))
    return [max(0.0, float(np.mean(values)) - half), min(1.0, float(np.mean(values)) + half)]


def _binary(runs: list[Predictions]) -> tuple[np.ndarray, np.ndarray]:
    pairs = [run.binary() for run in runs]
    return np.stack([s for s, _ in pairs]), pairs[0][1]


def _groups(run: Predictions) -> int | None:
    return None if run.groups is None else len(np.unique(run.groups))
