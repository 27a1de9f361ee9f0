import numpy as np
import pytest
import torch

from truncatedtl.analysis import CrossCovariance, mean_coefficient, overlap, random_baseline, svcca


def reference_svcca(x: np.ndarray, y: np.ndarray, keep: float = 0.99) -> np.ndarray:
    """Plain SVCCA: SVD-based PCA of the data to `keep` variance, then CCA by SVD of the whitened Σxy."""

    def reduce(a: np.ndarray) -> np.ndarray:
        a = a - a.mean(0)
        u, s, _ = np.linalg.svd(a, full_matrices=False)
        m = int(np.searchsorted(np.cumsum(s**2) / np.sum(s**2), keep)) + 1
        return u[:, :m] * s[:m]

    def inverse_sqrt(c: np.ndarray) -> np.ndarray:
        w, v = np.linalg.eigh(c)
        return (v / np.sqrt(w)) @ v.T

    x, y = reduce(x), reduce(y)
    n = len(x)
    sxx, syy, sxy = x.T @ x / (n - 1), y.T @ y / (n - 1), x.T @ y / (n - 1)
    return np.linalg.svd(inverse_sqrt(sxx) @ sxy @ inverse_sqrt(syy), compute_uv=False)


def correlated_pair(n: int = 3000, p: int = 24, q: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Features sharing 6 latent factors through random mixings, with uneven variances and an offset."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n, 6))
    x = (
        np.hstack([latent, rng.standard_normal((n, p - 6))])
        * np.linspace(3, 0.3, p)
        @ rng.standard_normal((p, p))
    )
    y = np.hstack([latent + 0.5 * rng.standard_normal((n, 6)), rng.standard_normal((n, q - 6))])
    return x + 5.0, y @ rng.standard_normal((q, q)) - 2.0


def orthogonal(d: int, seed: int) -> np.ndarray:
    return np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))[0]


def test_identical_features_correlate_perfectly():
    x, _ = correlated_pair()
    np.testing.assert_allclose(svcca(x, x), 1.0, atol=1e-8)


def test_agrees_with_plain_numpy_reference():
    x, y = correlated_pair()
    ours, ref = svcca(x, y), reference_svcca(x, y)
    assert ours.shape == ref.shape and len(ours) >= 6
    np.testing.assert_allclose(ours, ref, atol=1e-6)
    assert np.all(np.diff(ours) <= 0) and ours.min() >= 0 and ours.max() <= 1


def test_invariant_to_rotation_and_isotropic_scaling_of_either_side():
    x, y = correlated_pair()
    base = svcca(x, y)
    np.testing.assert_allclose(svcca(3.7 * x @ orthogonal(x.shape[1], 1), y), base, atol=1e-8)
    np.testing.assert_allclose(svcca(x, 0.02 * y @ orthogonal(y.shape[1], 2)), base, atol=1e-8)


def test_invariant_to_invertible_linear_maps_without_truncation():
    # PCA truncation is only rotation/scale invariant; with every component kept SVCCA is plain CCA.
    x, y = correlated_pair()
    rng = np.random.default_rng(3)
    base = svcca(x, y, keep=1.0)
    assert len(base) == x.shape[1]
    mix_x, mix_y = rng.standard_normal((x.shape[1],) * 2), rng.standard_normal((y.shape[1],) * 2)
    np.testing.assert_allclose(svcca(x @ mix_x, y, keep=1.0), base, atol=1e-8)
    np.testing.assert_allclose(svcca(x, y @ mix_y, keep=1.0), base, atol=1e-8)


def test_planted_shared_dimensions_are_recovered():
    rng = np.random.default_rng(4)
    n, k = 5000, 5
    latent = rng.standard_normal((n, k))
    x = np.hstack([latent + 0.1 * rng.standard_normal((n, k)), rng.standard_normal((n, 15))]) @ orthogonal(
        20, 5
    )
    y = np.hstack([latent + 0.1 * rng.standard_normal((n, k)), rng.standard_normal((n, 25))]) @ orthogonal(
        30, 6
    )
    coefficients = svcca(x, y)
    assert len(coefficients) == 20
    assert np.all(coefficients[:k] > 0.95)
    assert np.all(coefficients[k:] < 0.2)


def test_more_neurons_than_data_points():
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((50, 200)), rng.standard_normal((50, 120))
    coefficients = svcca(x, y)
    assert 0 < len(coefficients) <= 49
    assert coefficients.min() >= 0 and coefficients.max() <= 1
    np.testing.assert_allclose(svcca(x, x), 1.0, atol=1e-8)


def test_streaming_batches_equal_one_shot():
    x, y = correlated_pair()
    stats = CrossCovariance()
    for start, stop in [(0, 1), (1, 400), (400, 1000), (1000, 1001), (1001, 2500), (2500, 3000)]:
        stats.update(x[start:stop], y[start:stop])
    assert stats.n == len(x)
    np.testing.assert_allclose(stats.coefficients(), svcca(x, y), atol=1e-8)


def test_merging_two_halves_equals_the_whole():
    x, y = correlated_pair()
    first, second = CrossCovariance().update(x[:1234], y[:1234]), CrossCovariance().update(x[1234:], y[1234:])
    whole = CrossCovariance().update(x, y)
    merged = first.merge(second)
    np.testing.assert_allclose(merged.xy.numpy(), whole.xy.numpy(), rtol=1e-10, atol=1e-8)
    np.testing.assert_allclose(merged.coefficients(), whole.coefficients(), atol=1e-8)
    np.testing.assert_allclose(CrossCovariance().merge(whole).coefficients(), whole.coefficients(), atol=0)


def test_accurate_with_large_offsets():
    x, y = correlated_pair()
    stats = CrossCovariance()
    for start in range(0, len(x), 500):
        stats.update(x[start : start + 500] + 1e6, y[start : start + 500] - 1e6)
    np.testing.assert_allclose(stats.coefficients(), svcca(x, y), atol=1e-6)


def test_torch_input_equals_numpy_input():
    x, y = correlated_pair()
    from_torch = svcca(torch.from_numpy(x).float(), torch.from_numpy(y).float())
    np.testing.assert_allclose(from_torch, svcca(x.astype(np.float32), y.astype(np.float32)), atol=1e-12)
    np.testing.assert_allclose(from_torch, svcca(x, y), atol=1e-5)


def test_input_is_left_untouched():
    x, y = correlated_pair()
    tx, ty = torch.from_numpy(x.copy()), torch.from_numpy(y.copy())
    CrossCovariance().update(tx, ty).update(x, y)
    np.testing.assert_array_equal(tx.numpy(), x)
    np.testing.assert_array_equal(ty.numpy(), y)
    assert x.mean() > 1


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_input_equals_cpu_input():
    x, y = correlated_pair()
    stats = CrossCovariance().update(torch.from_numpy(x).cuda(), torch.from_numpy(y).cuda())
    assert stats.xy.is_cuda
    np.testing.assert_allclose(stats.coefficients(), svcca(x, y), atol=1e-8)


def test_bad_input_is_rejected_clearly():
    x, y = correlated_pair()
    with pytest.raises(ValueError, match="same number of data points"):
        svcca(x, y[:-1])
    with pytest.raises(ValueError, match="2-D"):
        svcca(x[:, 0], y)
    with pytest.raises(ValueError, match="keep"):
        svcca(x, y, keep=0)
    with pytest.raises(ValueError, match="no variance"):
        svcca(np.ones_like(x), y)
    with pytest.raises(ValueError, match="NaN"):
        svcca(np.where(x > 8, np.nan, x), y)
    with pytest.raises(ValueError, match="at least 2"):
        svcca(x[:1], y[:1])


def test_random_baseline_follows_its_documented_draw():
    seeds = np.random.SeedSequence(11).spawn(2)
    x = np.random.default_rng(seeds[0]).standard_normal((2000, 16))
    y = np.random.default_rng(seeds[1]).standard_normal((2000, 24))
    baseline = random_baseline((2000, 16), (2000, 24), seed=11, batch_rows=300)
    np.testing.assert_allclose(baseline, svcca(x, y), atol=1e-10)
    np.testing.assert_array_equal(baseline, random_baseline((2000, 16), (2000, 24), seed=11, batch_rows=300))
    assert not np.allclose(baseline, random_baseline((2000, 16), (2000, 24), seed=12))


def test_random_baseline_is_well_below_a_correlated_pair():
    x, y = correlated_pair()
    baseline = mean_coefficient(random_baseline(x.shape, y.shape, seed=0))
    assert baseline < 0.15
    assert mean_coefficient(svcca(x, y)) > baseline + 0.2


def test_mean_coefficient():
    assert mean_coefficient(np.array([1.0, 0.5, 0.0])) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        mean_coefficient(np.array([]))


def test_overlap_known_values():
    a = np.random.default_rng(0).uniform(size=50)
    assert overlap(a, a) == 1.0
    assert overlap(a, a[::-1].copy()) == 1.0
    assert overlap(a + 1.0, a) == 0.0
    assert overlap(a, a + 1.0) == 0.0
    assert overlap([1.0, 2.0, 3.0], [2.5]) == pytest.approx(2 / 3)
    assert overlap([0.0, 1.0], [0.5]) == 1.0
    assert overlap([0.2, 0.4], [0.4, 0.9, 0.1]) == overlap([0.4, 0.9, 0.1], [0.2, 0.4])
    assert overlap([0.2, 0.4], [0.4, 0.9, 0.1]) == pytest.approx(1 - abs(2 - 3) / 6)
