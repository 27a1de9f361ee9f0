import numpy as np
import pytest
import torch

from truncatedtl.analysis import CrossCovariance, cka


def features(n: int = 2000, p: int = 20, q: int = 30, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, p)) * np.linspace(2, 0.5, p) + 3.0
    y = np.hstack([x[:, :8] + rng.standard_normal((n, 8)), rng.standard_normal((n, q - 8))])
    return x, y @ rng.standard_normal((q, q))


def gram_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Linear CKA from centred n×n Gram matrices: HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L))."""
    centring = np.eye(len(x)) - 1 / len(x)
    gram_x, gram_y = centring @ x @ x.T @ centring, centring @ y @ y.T @ centring
    return float(np.sum(gram_x * gram_y) / np.sqrt(np.sum(gram_x * gram_x) * np.sum(gram_y * gram_y)))


def test_identical_features_give_one():
    x, _ = features()
    assert cka(x, x) == pytest.approx(1.0, abs=1e-12)


def test_agrees_with_gram_matrix_formula():
    x, y = features(n=40, p=10, q=12, seed=1)
    assert cka(x, y) == pytest.approx(gram_cka(x, y), abs=1e-12)
    assert 0.1 < cka(x, y) < 0.9


def test_invariant_to_orthogonal_transforms_and_isotropic_scaling():
    x, y = features()
    rng = np.random.default_rng(2)
    qx, qy = (np.linalg.qr(rng.standard_normal((d, d)))[0] for d in (x.shape[1], y.shape[1]))
    assert cka(0.1 * x @ qx, 7.0 * y @ qy) == pytest.approx(cka(x, y), abs=1e-12)


def test_independent_features_score_low():
    rng = np.random.default_rng(3)
    assert cka(rng.standard_normal((5000, 20)), rng.standard_normal((5000, 30))) < 0.02


def test_streaming_equals_one_shot():
    x, y = features()
    stats = CrossCovariance()
    for start in range(0, len(x), 300):
        stats.update(torch.from_numpy(x[start : start + 300]), y[start : start + 300])
    assert stats.cka() == pytest.approx(cka(x, y), abs=1e-12)


def test_constant_features_are_rejected():
    x, y = features()
    with pytest.raises(ValueError, match="no variance"):
        cka(np.zeros_like(x), y)
