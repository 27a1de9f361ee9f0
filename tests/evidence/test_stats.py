"""The numeric core of the evidence: DeLong against the published formula, bootstrap coverage of a known AUROC,
group resampling, weighted metrics against scikit-learn, the verdict."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.metrics import average_precision_score, roc_auc_score

from truncatedtl.evidence.stats import (
    delong_components,
    delong_difference,
    delong_interval,
    percentile_interval,
    resample_weights,
    seed_mean_resamples,
    verdict,
    weighted_auroc,
    weighted_average_precision,
    weighted_overlap,
)


def _reference_delong(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong, DeLong & Clarke-Pearson (1988), eqs. as published: ψ(X, Y) = 1, ½, 0 for X >, =, < Y;
    V10(X_i) = Σ_j ψ(X_i, Y_j) / n, V01(Y_j) = Σ_i ψ(X_i, Y_j) / m; S10, S01 their covariance matrices over
    the k classifiers (rows of ``x`` (k, m) and ``y`` (k, n)); S = S10/m + S01/n. Returns (AUCs, S)."""
    k, m = x.shape
    n = y.shape[1]
    psi = (x[:, :, None] > y[:, None, :]) + 0.5 * (x[:, :, None] == y[:, None, :])
    v10, v01 = psi.sum(2) / n, psi.sum(1) / m
    auc = psi.sum((1, 2)) / (m * n)
    s10 = np.array([[np.sum((v10[r] - auc[r]) * (v10[s] - auc[s])) / (m - 1) for s in range(k)] for r in range(k)])
    s01 = np.array([[np.sum((v01[r] - auc[r]) * (v01[s] - auc[s])) / (n - 1) for s in range(k)] for r in range(k)])
    return auc, s10 / m + s01 / n


@pytest.fixture
def two_models():
    rng = np.random.default_rng(7)
    positive = np.r_[np.ones(23, bool), np.zeros(31, bool)]
    a = np.round(rng.normal(positive * 1.2, 1.0), 1)  # rounded: ties inside and across classes
    b = np.round(0.6 * a + rng.normal(positive * 0.3, 0.8), 1)
    return a, b, positive


def test_delong_equals_the_published_formula(two_models):
    a, b, positive = two_models
    auc, s = _reference_delong(np.stack([a[positive], b[positive]]), np.stack([a[~positive], b[~positive]]))
    _, _, components_auc = delong_components(np.stack([a, b]), positive)
    np.testing.assert_allclose(components_auc, auc, atol=1e-12)
    np.testing.assert_allclose(auc, [roc_auc_score(positive, a), roc_auc_score(positive, b)], atol=1e-12)
    one = delong_interval(a[None], positive)
    assert one["variance"] == pytest.approx(s[0, 0], abs=1e-6)
    half = norm.ppf(0.975) * np.sqrt(s[0, 0])
    assert (one["low"], one["high"]) == pytest.approx((auc[0] - half, auc[0] + half), abs=1e-6)
    paired = delong_difference(a[None], b[None], positive)
    variance = s[0, 0] + s[1, 1] - 2 * s[0, 1]
    assert paired["difference"] == pytest.approx(auc[0] - auc[1], abs=1e-12)
    assert paired["variance"] == pytest.approx(variance, abs=1e-6)
    z = (auc[0] - auc[1]) / np.sqrt(variance)
    assert paired["p_value"] == pytest.approx(2 * norm.sf(abs(z)), abs=1e-6)


def test_delong_over_seeds_adds_the_seed_variance(two_models):
    a, b, positive = two_models
    seeds = np.stack([a, b])
    v10, v01, aucs = delong_components(seeds, positive)
    expected = (np.var(v10.mean(0), ddof=1) / len(v10[0]) + np.var(v01.mean(0), ddof=1) / len(v01[0])
                + np.var(aucs, ddof=1) / 2)
    result = delong_interval(seeds, positive)
    assert result["auc"] == pytest.approx(aucs.mean())
    assert result["variance"] == pytest.approx(expected, abs=1e-12)


def test_weighted_metrics_equal_scikit_learn_on_the_resampled_samples(two_models):
    a, _, positive = two_models
    weights = resample_weights(4, positive, rng=np.random.default_rng(3))
    auroc, ap = weighted_auroc(a, positive, weights), weighted_average_precision(a, positive, weights)
    for b, w in enumerate(weights):
        drawn = np.repeat(np.arange(len(a)), w)
        assert auroc[b] == pytest.approx(roc_auc_score(positive[drawn], a[drawn]), abs=1e-12)
        assert ap[b] == pytest.approx(average_precision_score(positive[drawn], a[drawn]), abs=1e-12)
    assert weighted_auroc(a, positive)[0] == pytest.approx(roc_auc_score(positive, a), abs=1e-12)


def test_overlap_of_summed_counts():
    counts = np.array([[[8, 1], [10, 1], [10, 2]], [[0, 0], [2, 0], [0, 0]]], dtype=float)  # (N=2, 3, K=2)
    scores = weighted_overlap(counts)
    dice = np.mean([2 * 8 / (12 + 10), 2 * 1 / (1 + 2)])
    jaccard = np.mean([8 / (22 - 8), 1 / (3 - 1)])
    assert scores["dice"][0] == pytest.approx(dice) and scores["jaccard"][0] == pytest.approx(jaccard)
    only_first = weighted_overlap(counts, np.array([[1, 0]]))
    assert only_first["dice"][0] == pytest.approx(np.mean([16 / 20, 2 / 3]))


def test_bootstrap_interval_covers_a_known_auroc():
    """Binormal scores: AUROC = Φ(μ/√2). 400 seeded simulations of 100 samples, 1000 resamples each."""
    mu = 1.19
    truth = norm.cdf(mu / np.sqrt(2))
    positive = np.r_[np.ones(40, bool), np.zeros(60, bool)]
    covered = 0
    for i in range(400):
        rng = np.random.default_rng(1000 + i)
        scores = rng.normal(positive * mu, 1.0)
        low, high = percentile_interval(weighted_auroc(scores, positive, resample_weights(1000, positive, rng=rng)))
        covered += low <= truth <= high
    assert 0.92 <= covered / 400 <= 0.98


def test_resamples_keep_strata_sizes_and_groups_whole():
    strata = np.array([0] * 6 + [1] * 4)
    groups = np.array(["a", "a", "b", "b", "b", "c", "d", "d", "e", "f"])
    weights = resample_weights(500, strata, groups, np.random.default_rng(0))
    assert weights.shape == (500, 10)
    for members in ([0, 1], [2, 3, 4], [6, 7]):
        assert (weights[:, members] == weights[:, members[:1]]).all()
    # group draws per stratum: 3 groups (a, b, c) in stratum 0, 3 (d, e, f) in stratum 1
    assert (weights[:, [0, 2, 5]].sum(1) == 3).all() and (weights[:, [6, 8, 9]].sum(1) == 3).all()
    plain = resample_weights(500, strata, rng=np.random.default_rng(0))
    assert (plain[:, :6].sum(1) == 6).all() and (plain[:, 6:].sum(1) == 4).all()
    assert not (plain[:, 0] == plain[:, 1]).all()


def test_seed_level_draws_seeds_with_replacement():
    values = np.array([[0.1] * 4000, [0.3] * 4000, [0.5] * 4000])
    means = seed_mean_resamples(values, np.random.default_rng(0))
    assert means.min() == pytest.approx(0.1) and means.max() == pytest.approx(0.5)
    assert means.mean() == pytest.approx(0.3, abs=0.01)
    np.testing.assert_array_equal(seed_mean_resamples(values[:1]), values[0])


@pytest.mark.parametrize(("low", "high", "expected"), [
    (0.001, 0.05, "superior"), (-0.019, 0.03, "non-inferior"), (-0.2, -0.021, "inferior"),
    (-0.05, 0.01, "inconclusive"), (-0.03, -0.01, "inconclusive"), (0.0, 0.02, "non-inferior")])
def test_verdict(low, high, expected):
    assert verdict(low, high, 0.02) == expected


def test_verdict_refuses_a_negative_margin():
    with pytest.raises(ValueError, match="--margin"):
        verdict(0.0, 0.1, -0.1)
