"""The sampling error of a score, as pure numeric functions: arrays in, numbers (or arrays of resampled numbers)
out, shapes in the docstrings.

A bootstrap resample is a vector of counts (how often each sample is drawn), so a resampled score is a weighted
score and ``B`` resamples are one (B, N) weight matrix: every metric here is computed for all resamples at once
from a single sort, and a group drawn is a group kept whole (its members share its count).

- :func:`resample_weights`: stratified bootstrap counts (strata keep their sizes; groups, where given, drawn
  whole within their stratum).
- :func:`weighted_auroc`, :func:`weighted_average_precision`, :func:`weighted_overlap`: AUROC (Mann–Whitney,
  ties counted ½), average precision (Σ ΔR·P over distinct thresholds, as torchmetrics and scikit-learn) and
  Dice/Jaccard from summed per-image counts, under weights.
- :func:`delong_components`, :func:`delong_interval`, :func:`delong_difference`: fast DeLong (Sun & Xu 2014)
  for one AUROC, or the paired difference of two, with the mean over seeds of each model.
- :func:`seed_mean_resamples`: the seed level of the hierarchical bootstrap.
- :func:`verdict`: superior / non-inferior / inferior / inconclusive from a difference's interval and a margin.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm, rankdata

Z95 = float(norm.ppf(0.975))
VERDICTS = ("superior", "non-inferior", "inferior", "inconclusive")


def resample_weights(resamples: int, strata: np.ndarray, groups: np.ndarray | None = None,
                     rng: np.random.Generator | None = None) -> np.ndarray:
    """Bootstrap counts (B, N) int for N samples: within each stratum (``strata`` (N,), any hashable values) as
    many draws as it has members, with replacement, so every resample keeps the strata's sizes. With ``groups``
    (N,), whole groups are drawn instead (as many as the stratum has), each member counted as often as its group;
    a group's stratum is the most common stratum among its members."""
    rng = rng or np.random.default_rng(0)
    strata = np.asarray(strata)
    n = len(strata)
    if groups is None:
        unit, unit_stratum = np.arange(n), strata
    else:
        names, unit = np.unique(np.asarray(groups), return_inverse=True)
        unit_stratum = np.empty(len(names), dtype=strata.dtype)
        for g in range(len(names)):
            values, counts = np.unique(strata[unit == g], return_counts=True)
            unit_stratum[g] = values[np.argmax(counts)]
    unit_counts = np.zeros((resamples, len(unit_stratum)), dtype=np.int64)
    for key in np.unique(unit_stratum):
        members = np.flatnonzero(unit_stratum == key)
        k = len(members)
        drawn = rng.integers(0, k, size=(resamples, k)) + k * np.arange(resamples)[:, None]
        unit_counts[:, members] = np.bincount(drawn.ravel(), minlength=resamples * k).reshape(resamples, k)
    return unit_counts[:, unit]


def _as_weights(weights: np.ndarray | None, n: int) -> np.ndarray:
    """(B, N) float64 weights; ``None`` is one resample of unit weights (the score itself)."""
    if weights is None:
        return np.ones((1, n))
    weights = np.asarray(weights, dtype=np.float64)
    return weights[None] if weights.ndim == 1 else weights


def _tie_bounds(sorted_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and last position (N,) of the run of equal values each position of ``sorted_scores`` (N,) is in."""
    n = len(sorted_scores)
    index = np.arange(n)
    differs = sorted_scores[1:] != sorted_scores[:-1]
    first = np.maximum.accumulate(np.where(np.r_[True, differs], index, 0))
    last = np.minimum.accumulate(np.where(np.r_[differs, True], index, n - 1)[::-1])[::-1]
    return first, last


def weighted_auroc(scores: np.ndarray, positive: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """AUROC (B,) of ``scores`` (N,) against boolean ``positive`` (N,) under ``weights`` (B, N) (or (N,), or
    None for the plain AUROC): the weighted share of positive–negative pairs ordered correctly, ties counted ½.
    NaN where a resample holds no positive or no negative."""
    order = np.argsort(scores, kind="stable")
    w = _as_weights(weights, len(scores))[:, order]
    pos_mask = np.asarray(positive, dtype=bool)[order]
    first, last = _tie_bounds(np.asarray(scores)[order])
    neg = np.where(pos_mask, 0.0, w)
    pos = np.where(pos_mask, w, 0.0)
    cum = np.concatenate([np.zeros((len(w), 1)), np.cumsum(neg, axis=1)], axis=1)
    below, through = cum[:, first], cum[:, last + 1]
    pairs = (pos * (below + 0.5 * (through - below))).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pairs / (pos.sum(1) * neg.sum(1))


def weighted_average_precision(scores: np.ndarray, positive: np.ndarray,
                               weights: np.ndarray | None = None) -> np.ndarray:
    """Average precision (B,) = Σ over distinct thresholds (descending) of the recall gained × the precision
    there, as ``torchmetrics``/``scikit-learn`` compute it, under ``weights`` (B, N). ``scores``, ``positive``
    (N,). NaN where a resample holds no positive."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    w = _as_weights(weights, len(scores))[:, order]
    pos = np.where(np.asarray(positive, dtype=bool)[order], w, 0.0)
    _, last = _tie_bounds(-np.asarray(scores)[order])
    tp, seen = np.cumsum(pos, axis=1)[:, last], np.cumsum(w, axis=1)[:, last]
    precision = np.divide(tp, seen, out=np.zeros_like(tp), where=seen > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos * precision).sum(1) / pos.sum(1)


def weighted_overlap(counts: np.ndarray, weights: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Dice 2I/(P+T) and Jaccard I/(P+T−I), each (B,), averaged over the classes with P + T > 0, from per-image
    counts (N, 3, K) (intersection, predicted area, true area of K classes) summed under ``weights`` (B, N):
    the dataset-level scores of the resampled images."""
    w = _as_weights(weights, len(counts))
    intersection, pred, truth = np.einsum("bn,nck->cbk", w, np.asarray(counts, dtype=np.float64))
    total = pred + truth
    defined = total > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        dice = np.where(defined, 2 * intersection / total, np.nan)
        jaccard = np.where(defined, intersection / (total - intersection), np.nan)
        return {"dice": np.nanmean(dice, 1), "jaccard": np.nanmean(jaccard, 1)}


def delong_components(scores: np.ndarray, positive: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fast DeLong structural components (Sun & Xu 2014) of k classifiers: ``scores`` (k, N), ``positive`` (N,)
    bool with m positives and n negatives. Returns ``v10`` (k, m): each positive's share of negatives scored
    below it (ties ½); ``v01`` (k, n): each negative's share of positives scored above it; ``auc`` (k,)."""
    scores = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    positive = np.asarray(positive, dtype=bool)
    x, y = scores[:, positive], scores[:, ~positive]
    m, n = x.shape[1], y.shape[1]
    if m == 0 or n == 0:
        raise ValueError(f"DeLong needs positives and negatives (got {m} positive, {n} negative samples)")
    tx, ty = rankdata(x, axis=1), rankdata(y, axis=1)
    tz = rankdata(np.concatenate([x, y], axis=1), axis=1)
    v10 = (tz[:, :m] - tx) / n
    v01 = 1.0 - (tz[:, m:] - ty) / m
    return v10, v01, v10.mean(1)


def _component_variance(v10: np.ndarray, v01: np.ndarray) -> float:
    """DeLong variance of the AUROC whose components are ``v10`` (m,) and ``v01`` (n,): S10/m + S01/n."""
    return float(np.var(v10, ddof=1) / len(v10) + np.var(v01, ddof=1) / len(v01))


def _seed_variance(values: np.ndarray) -> float:
    """Variance of the mean of ``values`` (n,) over seeds: s²/n (0 for one seed)."""
    return float(np.var(values, ddof=1) / len(values)) if len(values) > 1 else 0.0


def delong_interval(scores: np.ndarray, positive: np.ndarray, level: float = 0.95) -> dict[str, float]:
    """DeLong interval of the AUROC of one model averaged over its seeds: ``scores`` (seeds, N) on the same N
    samples, ``positive`` (N,). The components are averaged over seeds (the mean AUROC is the AUROC statistic of
    the averaged components), so the variance is DeLong's for the test samples, plus the seed variance of the
    mean (s²/n) where there are several seeds. Returns ``auc``, ``variance``, ``low``, ``high`` (clipped to
    [0, 1])."""
    v10, v01, auc = delong_components(scores, positive)
    variance = _component_variance(v10.mean(0), v01.mean(0)) + _seed_variance(auc)
    half = float(norm.ppf(0.5 + level / 2)) * np.sqrt(variance)
    mean = float(auc.mean())
    return {"auc": mean, "variance": variance, "low": max(0.0, mean - half), "high": min(1.0, mean + half)}


def delong_difference(scores_a: np.ndarray, scores_b: np.ndarray, positive: np.ndarray,
                      level: float = 0.95) -> dict[str, float]:
    """Paired DeLong test of mean AUROC(A) − mean AUROC(B) on the same samples: ``scores_a`` (seeds_a, N),
    ``scores_b`` (seeds_b, N), ``positive`` (N,). Variance: DeLong's of the difference of the seed-averaged
    components (their covariance, which pairing removes, included), plus each model's seed variance of its mean.
    Returns ``difference``, ``variance``, ``low``, ``high``, ``p_value`` (two-sided, H0: no difference)."""
    a10, a01, auc_a = delong_components(scores_a, positive)
    b10, b01, auc_b = delong_components(scores_b, positive)
    variance = (_component_variance(a10.mean(0) - b10.mean(0), a01.mean(0) - b01.mean(0))
                + _seed_variance(auc_a) + _seed_variance(auc_b))
    difference = float(auc_a.mean() - auc_b.mean())
    se = np.sqrt(variance)
    half = float(norm.ppf(0.5 + level / 2)) * se
    p_value = float(2 * norm.sf(abs(difference) / se)) if se > 0 else (1.0 if difference == 0 else 0.0)
    return {"difference": difference, "variance": variance, "low": max(-1.0, difference - half),
            "high": min(1.0, difference + half), "p_value": p_value}


def seed_mean_resamples(values: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """The seed level of the hierarchical bootstrap: ``values`` (seeds, B) holds each seed's score on the B
    sample resamples (the same resamples for every seed); each resample draws ``seeds`` seeds with replacement
    and averages their scores. Returns (B,). With one seed, its scores unchanged."""
    values = np.asarray(values, dtype=np.float64)
    seeds, resamples = values.shape
    if seeds == 1:
        return values[0]
    rng = rng or np.random.default_rng(0)
    drawn = rng.integers(0, seeds, size=(resamples, seeds))
    return values[drawn, np.arange(resamples)[:, None]].mean(1)


def percentile_interval(resampled: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The central ``level`` interval of bootstrap values (B,), NaNs (undefined resamples) left out."""
    low, high = np.nanquantile(np.asarray(resampled, dtype=np.float64), [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def verdict(low: float, high: float, margin: float) -> str:
    """The verdict on a difference (strategy − reference) from its interval [low, high] at ``margin`` δ ≥ 0:
    superior (low > 0), non-inferior (low > −δ), inferior (high < −δ), else inconclusive."""
    if margin < 0:
        raise ValueError(f"--margin must be 0 or more, got {margin}")
    if low > 0:
        return "superior"
    if low > -margin:
        return "non-inferior"
    if high < -margin:
        return "inferior"
    return "inconclusive"
