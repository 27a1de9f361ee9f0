"""LogME, H-score and the ridge probe against plain NumPy evaluations of their formulas."""

import numpy as np
import pytest

from truncatedtl.analysis.estimators import hscore, logme, one_hot, ridge_probe


def features_and_labels(n: int, d: int, classes: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, size=d)
    labels = np.argmax(f @ rng.normal(size=(d, classes)) + rng.normal(size=(n, classes)), axis=1)
    return f, labels


def logme_reference(f: np.ndarray, labels: np.ndarray) -> float:
    """The paper's formulas with explicit matrices: A = αI + βFᵀF, m = βA⁻¹Fᵀy, MacKay's updates."""
    n, d = f.shape
    y = np.eye(labels.max() + 1)[labels]
    sigma = np.linalg.eigvalsh(f.T @ f)
    out = []
    for c in range(y.shape[1]):
        alpha, beta = 1.0, 1.0
        for _ in range(1000):
            a = alpha * np.eye(d) + beta * f.T @ f
            m = beta * np.linalg.solve(a, f.T @ y[:, c])
            gamma = np.sum(beta * sigma / (alpha + beta * sigma))
            alpha, beta = gamma / (m @ m), (n - gamma) / np.sum((f @ m - y[:, c]) ** 2)
        a = alpha * np.eye(d) + beta * f.T @ f
        m = beta * np.linalg.solve(a, f.T @ y[:, c])
        evidence = (d / 2 * np.log(alpha) + n / 2 * np.log(beta) - np.linalg.slogdet(a)[1] / 2
                    - beta / 2 * np.sum((f @ m - y[:, c]) ** 2) - alpha / 2 * m @ m - n / 2 * np.log(2 * np.pi))
        out.append(evidence / n)
    return float(np.mean(out))


def hscore_reference(f: np.ndarray, labels: np.ndarray) -> float:
    """Bao et al.'s definition: g(x) = E[f | y(x)], H = tr(cov(f)⁻¹ cov(g))."""
    g = np.zeros_like(f)
    for c in np.unique(labels):
        g[labels == c] = f[labels == c].mean(0)
    return float(np.trace(np.linalg.pinv(np.cov(f, rowvar=False)) @ np.cov(g, rowvar=False)))


@pytest.mark.parametrize(("n", "d", "classes", "seed"), [(200, 16, 2, 0), (150, 40, 3, 1), (60, 80, 2, 2)])
def test_logme_matches_the_reference(n, d, classes, seed):
    f, labels = features_and_labels(n, d, classes, seed)
    assert logme(f, labels) == pytest.approx(logme_reference(f, labels), abs=1e-6)


@pytest.mark.parametrize(("n", "d", "classes", "seed"), [(200, 16, 2, 0), (150, 40, 3, 1), (300, 8, 4, 3)])
def test_hscore_matches_the_reference(n, d, classes, seed):
    f, labels = features_and_labels(n, d, classes, seed)
    assert hscore(f, labels) == pytest.approx(hscore_reference(f, labels), abs=1e-6)


def test_estimators_prefer_informative_features_and_hscore_is_bounded():
    f, labels = features_and_labels(300, 10, 2, 4)
    noise = np.random.default_rng(5).normal(size=f.shape)
    assert logme(f, labels) > logme(noise, labels)
    assert hscore(f, labels) > hscore(noise, labels)
    assert 0 <= hscore(f, labels) <= 1 + 1e-9  # at most classes - 1
    assert hscore(f * 7 + 3, labels) == pytest.approx(hscore(f, labels), abs=1e-9)  # affine invariant


def test_ridge_probe_is_ridge_regression_with_the_chosen_penalty():
    f, labels = features_and_labels(120, 6, 2, 6)
    test = np.random.default_rng(7).normal(size=(10, 6))
    got = ridge_probe(f, labels, test, penalties=np.array([0.5]))
    mean, std = f.mean(0), f.std(0)
    x = np.hstack([(f - mean) / std, np.ones((120, 1))])
    penalty = np.diag([0.5 * 120] * 6 + [0.0])  # the intercept is not penalised
    w = np.linalg.solve(x.T @ x + penalty, x.T @ one_hot(labels))
    want = np.hstack([(test - mean) / std, np.ones((10, 1))]) @ w
    np.testing.assert_allclose(got, want, atol=1e-9)


def test_ridge_probe_leave_one_out_picks_a_small_penalty_for_a_clean_signal():
    rng = np.random.default_rng(8)
    x = rng.normal(size=(200, 5))
    y = (x[:, 0] > 0).astype(int)
    pred = ridge_probe(x, y, x, penalties=np.array([1e-4, 100.0]))
    assert np.corrcoef(pred[:, 1], x[:, 0])[0, 1] > 0.7
    heavy = ridge_probe(x, y, x, penalties=np.array([100.0]))
    assert np.abs(pred[:, 1] - 0.5).mean() > 2 * np.abs(heavy[:, 1] - 0.5).mean()


def test_multilabel_targets_are_refused_by_hscore():
    with pytest.raises(ValueError, match="single-label"):
        hscore(np.zeros((4, 2)), np.zeros((4, 2)))
