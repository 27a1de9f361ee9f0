"""AUROC/AUPRC against scikit-learn on binary, multi-class (macro) and multi-label (macro) targets."""

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

from truncatedtl.tasks.classification.metrics import scores


def test_binary_matches_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    p1 = np.clip(y * 0.3 + rng.random(200) * 0.7, 0, 1)
    probs = torch.tensor(np.stack([1 - p1, p1], 1), dtype=torch.float32)
    got = scores(probs, torch.tensor(y), "binary")
    assert got["auroc"] == pytest.approx(roc_auc_score(y, p1), abs=1e-5)
    assert got["auprc"] == pytest.approx(average_precision_score(y, p1), abs=1e-5)


def test_multiclass_macro_matches_sklearn():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 300)
    logits = rng.normal(size=(300, 3)) + np.eye(3)[y]
    probs = torch.softmax(torch.tensor(logits, dtype=torch.float32), 1)
    got = scores(probs, torch.tensor(y), "multiclass")
    assert got["auroc"] == pytest.approx(roc_auc_score(y, probs.numpy(), multi_class="ovr"), abs=1e-5)
    onehot = np.eye(3)[y]
    assert got["auprc"] == pytest.approx(average_precision_score(onehot, probs.numpy(), average="macro"), abs=1e-5)


def test_multilabel_macro_matches_sklearn():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, (150, 4))
    probs = np.clip(y * 0.4 + rng.random((150, 4)) * 0.6, 0, 1)
    got = scores(torch.tensor(probs, dtype=torch.float32), torch.tensor(y), "multilabel")
    assert got["auroc"] == pytest.approx(roc_auc_score(y, probs, average="macro"), abs=1e-5)
    assert got["auprc"] == pytest.approx(average_precision_score(y, probs, average="macro"), abs=1e-5)
