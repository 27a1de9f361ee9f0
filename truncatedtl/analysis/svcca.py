"""SVCCA between two sets of features, from covariances accumulated batch by batch.

Features are matrices of shape (data points, neurons); for conv features the channels are the neurons and
every (sample, spatial position) is a data point. Both sides must list the same data points in the same
order. Memory is O(neurons²) whatever the number of data points.
"""

import numpy as np
import torch


def _as_float64(features: np.ndarray | torch.Tensor, name: str) -> torch.Tensor:
    """A float64 copy (n, neurons) on the input's device (NumPy input stays on the CPU), ours to modify."""
    tensor = torch.as_tensor(features)
    if tensor.ndim != 2:
        raise ValueError(f"{name} must be 2-D (data points, neurons), got shape {tuple(tensor.shape)}")
    return tensor.to(torch.float64, copy=True)


def _principal_axes(
    comoment: torch.Tensor, n: int, keep: float, name: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """PCA of one side from its centred comoment matrix (neurons, neurons).

    Returns the kept variances (m,) and axes (neurons, m), largest first: the fewest components whose
    share of the total variance reaches `keep`, never more than the numerical rank (at most n - 1).
    """
    variances, axes = torch.linalg.eigh(comoment)
    variances, axes = variances.flip(0).clamp(min=0), axes.flip(1)
    total = variances.sum()
    if total <= 0:
        raise ValueError(f"{name} has no variance: every neuron is constant over the data points")
    rank = int((variances > variances[0] * comoment.shape[0] * torch.finfo(torch.float64).eps).sum())
    share = torch.cumsum(variances, 0) / total
    needed = int((share < keep).sum()) + 1
    m = min(needed, rank, n - 1)
    return variances[:m], axes[:, :m]


class CrossCovariance:
    """Running means and centred second moments of paired features X (n, p) and Y (n, q), in float64.

    `update` adds a batch of rows, `merge` adds another accumulator (e.g. from another worker); both
    combine exactly by Chan et al.'s pairwise formula, which stays accurate when the means are large. The
    accumulators live on the device of the first batch. SVCCA coefficients and linear CKA are read off the
    accumulated moments, so the data points never need to be held in memory together.
    """

    def __init__(self) -> None:
        self.n = 0
        self.mean_x: torch.Tensor | None = None  # (p,)
        self.mean_y: torch.Tensor | None = None  # (q,)
        self.xx: torch.Tensor | None = None  # (p, p) sum of centred x xᵀ
        self.yy: torch.Tensor | None = None  # (q, q)
        self.xy: torch.Tensor | None = None  # (p, q)

    def update(self, x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor) -> "CrossCovariance":
        """Add the rows of x (b, p) and y (b, q); returns self."""
        x, y = _as_float64(x, "x"), _as_float64(y, "y")
        if x.shape[0] != y.shape[0]:
            raise ValueError(
                f"x and y must have the same number of data points, got {x.shape[0]} and {y.shape[0]}"
            )
        if x.shape[0] == 0:
            return self
        y = y.to(x.device)
        batch = CrossCovariance()
        batch.n = x.shape[0]
        batch.mean_x, batch.mean_y = x.mean(0), y.mean(0)
        x.sub_(batch.mean_x)
        y.sub_(batch.mean_y)
        batch.xx, batch.yy, batch.xy = x.T @ x, y.T @ y, x.T @ y
        return self.merge(batch)

    def merge(self, other: "CrossCovariance") -> "CrossCovariance":
        """Add the data points accumulated in `other` (same neurons, other rows); returns self."""
        if other.n == 0:
            return self
        if self.n == 0:
            self.n, self.mean_x, self.mean_y = other.n, other.mean_x.clone(), other.mean_y.clone()
            self.xx, self.yy, self.xy = other.xx.clone(), other.yy.clone(), other.xy.clone()
            return self
        if other.xy.shape != self.xy.shape:
            raise ValueError(f"cannot merge neurons {tuple(other.xy.shape)} into {tuple(self.xy.shape)}")
        device, n = self.xy.device, self.n + other.n
        dx, dy = other.mean_x.to(device) - self.mean_x, other.mean_y.to(device) - self.mean_y
        weight = self.n * other.n / n
        self.xx.add_(other.xx.to(device)).addr_(dx, dx, alpha=weight)
        self.yy.add_(other.yy.to(device)).addr_(dy, dy, alpha=weight)
        self.xy.add_(other.xy.to(device)).addr_(dx, dy, alpha=weight)
        self.mean_x.add_(dx, alpha=other.n / n)
        self.mean_y.add_(dy, alpha=other.n / n)
        self.n = n
        return self

    def _check_ready(self) -> None:
        if self.n < 2:
            raise ValueError(f"need at least 2 data points, got {self.n}")
        if not all(torch.isfinite(getattr(self, f)).all() for f in ("xx", "yy", "xy")):
            raise ValueError("features contain NaN or infinite values")

    def coefficients(self, keep: float = 0.99) -> np.ndarray:
        """SVCCA coefficients (min(m_x, m_y),), descending, in [0, 1].

        PCA of each side keeps the fewest components reaching a `keep` share of its variance (m_x, m_y);
        the coefficients are the singular values of Σxx^-1/2 Σxy Σyy^-1/2 between the kept components.
        They are meaningful when n is well above m_x + m_y: with as many kept dimensions as data points
        any two sets correlate perfectly.
        """
        if not 0 < keep <= 1:
            raise ValueError(f"keep must lie in (0, 1], got {keep}")
        self._check_ready()
        var_x, axes_x = _principal_axes(self.xx, self.n, keep, "X")
        var_y, axes_y = _principal_axes(self.yy, self.n, keep, "Y")
        whitened = (axes_x.T @ self.xy @ axes_y) / torch.outer(var_x.sqrt(), var_y.sqrt())
        return torch.linalg.svdvals(whitened).clamp(0, 1).cpu().numpy()

    def cka(self) -> float:
        """Linear CKA (Kornblith et al., 2019): ‖Σxy‖²_F / (‖Σxx‖_F ‖Σyy‖_F), in [0, 1]."""
        self._check_ready()
        denominator = torch.linalg.matrix_norm(self.xx) * torch.linalg.matrix_norm(self.yy)
        if denominator <= 0:
            raise ValueError("X or Y has no variance: every neuron is constant over the data points")
        return float(torch.linalg.matrix_norm(self.xy) ** 2 / denominator)


def svcca(x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor, keep: float = 0.99) -> np.ndarray:
    """SVCCA coefficients between x (n, p) and y (n, q): (min(m_x, m_y),), descending, in [0, 1].

    See `CrossCovariance.coefficients`; feed a `CrossCovariance` batch by batch when the data points do
    not fit in memory.
    """
    return CrossCovariance().update(x, y).coefficients(keep)


def random_baseline(
    shape_x: tuple[int, int], shape_y: tuple[int, int], seed: int, keep: float = 0.99, batch_rows: int = 8192
) -> np.ndarray:
    """SVCCA coefficients between independent random features of the given (n, neurons) shapes.

    The reference for "no shared structure" at a given size: X and Y are i.i.d. standard normal, X drawn
    by `np.random.default_rng(s[0]).standard_normal(shape_x)` and Y by the same with `s[1]`, where
    `s = np.random.SeedSequence(seed).spawn(2)`. They are drawn `batch_rows` rows at a time, which yields
    the same values with less memory.
    """
    if shape_x[0] != shape_y[0]:
        raise ValueError(f"shapes must share the number of data points, got {shape_x} and {shape_y}")
    rng_x, rng_y = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    stats = CrossCovariance()
    for start in range(0, shape_x[0], batch_rows):
        rows = min(batch_rows, shape_x[0] - start)
        stats.update(rng_x.standard_normal((rows, shape_x[1])), rng_y.standard_normal((rows, shape_y[1])))
    return stats.coefficients(keep)


def mean_coefficient(coefficients: np.ndarray) -> float:
    """Mean of SVCCA coefficients (k,): the SVCCA similarity of Raghu et al. (2017), in [0, 1]."""
    if len(coefficients) == 0:
        raise ValueError("no coefficients to average")
    return float(np.mean(coefficients))


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """How much two coefficient distributions a (k,) and b (l,) overlap, in [0, 1].

    1 - |P(A > B) - P(A < B)| for A drawn from a and B from b independently, i.e. one minus the absolute
    Cliff's delta (equivalently 1 - |2·AUC - 1|). It is 1 when neither sample tends to lie above the
    other (identical samples included) and 0 when every value of one lies above every value of the
    other. It compares ranks only, so the lengths of a and b may differ.
    """
    a, b = np.asarray(a, dtype=np.float64), np.sort(np.asarray(b, dtype=np.float64))
    if a.size == 0 or b.size == 0:
        raise ValueError("both coefficient samples must be non-empty")
    below = np.searchsorted(b, a, side="left").sum()  # pairs with B < A
    above = (b.size - np.searchsorted(b, a, side="right")).sum()  # pairs with B > A
    return float(1 - abs(below - above) / (a.size * b.size))
