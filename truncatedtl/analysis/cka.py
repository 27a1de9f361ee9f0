"""Linear CKA between two sets of features, a second similarity measure beside SVCCA."""

import numpy as np
import torch

from truncatedtl.analysis.svcca import CrossCovariance


def cka(x: np.ndarray | torch.Tensor, y: np.ndarray | torch.Tensor) -> float:
    """Linear CKA (Kornblith et al., 2019) between x (n, p) and y (n, q), in [0, 1].

    Invariant to orthogonal transforms and isotropic scaling of either side, not to every invertible
    linear map. Feed a `CrossCovariance` batch by batch and call its `cka()` when the data points do not
    fit in memory.
    """
    return CrossCovariance().update(x, y).cka()
