"""Transferability estimators on (N, D) feature matrices: how well features at a cut point serve the labels,
without training the network. Pure NumPy functions; the search computes them at every cut point.

- ``logme``: LogME (You et al., ICML 2021), the log marginal evidence of a Bayesian linear model on the
  features, maximised over its two precisions (MacKay's fixed point), per sample, averaged over the
  target columns.
- ``hscore``: H-score (Bao et al., ICIP 2019), ``tr(cov(f)⁺ cov(E[f | y]))``: between-class variance of the
  features in units of their total variance.
- ``ridge_probe``: a closed-form linear probe, ridge regression on standardised features to the targets,
  its penalty chosen by the exact leave-one-out error on the training rows.
"""

from __future__ import annotations

import numpy as np

RIDGE_PENALTIES = np.logspace(-4, 2, 13)
EPSILON = 1e-20  # keeps LogME's updates finite where the features explain nothing (‖m‖ → 0)


def one_hot(labels: np.ndarray, classes: int | None = None) -> np.ndarray:
    """Class labels (N,) → one-hot targets (N, classes); targets (N, C) pass through as float."""
    labels = np.asarray(labels)
    if labels.ndim == 2:
        return labels.astype(np.float64)
    classes = int(labels.max()) + 1 if classes is None else classes
    return np.eye(classes)[labels.astype(int)]


def logme(features: np.ndarray, targets: np.ndarray, max_iter: int = 1000, tol: float = 1e-12) -> float:
    """LogME of ``features`` (N, D) for ``targets``: class labels (N,) or 0/1 columns (N, C).

    Per column y: the model y = F w + ε, w ~ N(0, α⁻¹ I_D), ε ~ N(0, β⁻¹ I_N). With A = α I + β FᵀF and
    m = β A⁻¹ Fᵀ y, the log evidence is D/2 log α + N/2 log β − ½ log|A| − β/2 ‖F m − y‖² − α/2 ‖m‖²
    − N/2 log 2π, maximised by iterating γ = Σ βσᵢ / (α + βσᵢ), α = γ / ‖m‖², β = (N − γ) / ‖F m − y‖²
    (σᵢ the eigenvalues of FᵀF; ``EPSILON`` added to both denominators) from α = β = 1. Returns the evidence divided by N, averaged over columns.
    Higher is better. One SVD of F serves every column and iteration."""
    f = np.asarray(features, dtype=np.float64)
    y = one_hot(targets)
    n, d = f.shape
    u, s, _ = np.linalg.svd(f, full_matrices=False)
    projected = u.T @ y  # (r, C)
    outside = (y**2).sum(0) - (projected**2).sum(0)  # ‖y‖² outside the column space of F
    evidences = [_evidence(s, projected[:, c], outside[c], n, d, max_iter, tol) for c in range(y.shape[1])]
    return float(np.mean(evidences))


def _evidence(s: np.ndarray, z: np.ndarray, outside: float, n: int, d: int, max_iter: int, tol: float) -> float:
    """LogME of one target column: ``s`` (r,) singular values of F, ``z`` (r,) = Uᵀy, ``outside`` = ‖y‖² − ‖z‖²."""
    sigma = s**2

    def terms(alpha: float, beta: float) -> tuple[float, float, float]:
        """γ, ‖m‖² and ‖F m − y‖² at (α, β), in the eigenbasis of FᵀF."""
        shrink = alpha + beta * sigma
        return (float((beta * sigma / shrink).sum()), float(((beta * s * z / shrink) ** 2).sum()),
                float(outside + ((alpha / shrink * z) ** 2).sum()))

    alpha, beta = 1.0, 1.0
    for _ in range(max_iter):
        gamma, m_norm, residual = terms(alpha, beta)
        new_alpha, new_beta = gamma / (m_norm + EPSILON), (n - gamma) / (residual + EPSILON)
        done = abs(new_alpha - alpha) <= tol * alpha and abs(new_beta - beta) <= tol * beta
        alpha, beta = new_alpha, new_beta
        if done:
            break
    _, m_norm, residual = terms(alpha, beta)
    log_det = float(np.log(alpha + beta * sigma).sum()) + (d - len(sigma)) * np.log(alpha)
    evidence = (d / 2 * np.log(alpha) + n / 2 * np.log(beta) - log_det / 2 - beta / 2 * residual
                - alpha / 2 * m_norm - n / 2 * np.log(2 * np.pi))
    return evidence / n


def hscore(features: np.ndarray, labels: np.ndarray) -> float:
    """H-score of ``features`` (N, D) for class ``labels`` (N,): ``tr(cov(f)⁺ cov(g))`` with g(x) the mean
    feature of x's class (both covariances with the N − 1 normalisation, the pseudo-inverse for a singular
    cov(f)). Computed as Σ_c N_c / (N − 1) · μ_cᵀ cov(f)⁺ μ_c over the centred class means μ_c. Higher is
    better; at most the number of classes − 1."""
    f = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError("H-score needs one class label per sample (single-label data), not multi-label targets")
    f = f - f.mean(0)
    n = len(f)
    inverse = np.linalg.pinv(f.T @ f / (n - 1), hermitian=True)
    total = 0.0
    for c in np.unique(labels):
        mean = f[labels == c].mean(0)
        total += (labels == c).sum() / (n - 1) * float(mean @ inverse @ mean)
    return total


def ridge_probe(train: np.ndarray, targets: np.ndarray, evaluate: np.ndarray,
                penalties: np.ndarray = RIDGE_PENALTIES) -> np.ndarray:
    """Predictions (M, C) for ``evaluate`` (M, D) of ridge regression fitted on ``train`` (N, D) to
    ``targets`` (class labels (N,) or 0/1 columns (N, C)), with an unpenalised intercept.

    Features are standardised with the training rows' mean and std; the penalty is N · p for the p of
    ``penalties`` with the lowest exact leave-one-out squared error on the training rows (ties: the larger
    penalty)."""
    x = np.asarray(train, dtype=np.float64)
    y = one_hot(targets)
    mean, std = x.mean(0), x.std(0)
    std[std == 0] = 1.0
    x = (x - mean) / std
    offset = y.mean(0)
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    projected = u.T @ (y - offset)
    n = len(x)
    best: tuple[float, float] | None = None
    for penalty in sorted(n * np.asarray(penalties), reverse=True):
        kept = s**2 / (s**2 + penalty)
        leverage = (u**2) @ kept + 1 / n
        residual = (y - offset) - u @ (kept[:, None] * projected)
        error = float(((residual / (1 - leverage)[:, None]) ** 2).mean())
        if best is None or error < best[0]:
            best = (error, penalty)
    assert best is not None
    weights = vt.T @ ((s / (s**2 + best[1]))[:, None] * projected)
    return ((np.asarray(evaluate, dtype=np.float64) - mean) / std) @ weights + offset
