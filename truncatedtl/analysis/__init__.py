"""Transferability analysis: how similar two sets of features are (SVCCA, CKA)."""

from truncatedtl.analysis.cka import cka
from truncatedtl.analysis.svcca import CrossCovariance, mean_coefficient, overlap, random_baseline, svcca

__all__ = ["CrossCovariance", "cka", "mean_coefficient", "overlap", "random_baseline", "svcca"]
