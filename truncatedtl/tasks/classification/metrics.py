"""Classification loss and metrics: cross-entropy (per-label BCE for multi-label), AUROC and AUPRC (average precision), macro-averaged over classes where needed."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torchmetrics.functional import classification as C

from ...data import LabelKind


def probabilities(logits: torch.Tensor, kind: LabelKind) -> torch.Tensor:
    """Logits (N, classes) → probabilities: softmax for single-label tasks, sigmoid per label otherwise."""
    return torch.sigmoid(logits) if kind == "multilabel" else F.softmax(logits, dim=1)


def loss_fn(logits: torch.Tensor, labels: torch.Tensor, kind: LabelKind) -> torch.Tensor:
    if kind == "multilabel":
        return masked_bce(logits, labels.float())
    return F.cross_entropy(logits, labels)


def masked_bce(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of logits (N, C) against labels (N, C) in {0, 1}, averaged over the entries
    whose label is not -1 (masked: uncertain under the ``ignore`` policy); 0 when every entry is masked."""
    mask = labels >= 0
    loss = F.binary_cross_entropy_with_logits(logits, labels.clamp(min=0), reduction="none")
    return (loss * mask).sum() / mask.sum().clamp(min=1)


def scores(probs: torch.Tensor, labels: torch.Tensor, kind: LabelKind) -> dict[str, float]:
    """``{"auroc", "auprc"}`` of probabilities (N, classes) against labels (N,) or multi-hot (N, classes);
    multi-label entries of -1 are left out."""
    if kind == "binary":
        p, y = probs[:, 1], labels.long()
        auroc, auprc = C.binary_auroc(p, y), C.binary_average_precision(p, y)
    elif kind == "multiclass":
        n = probs.shape[1]
        present = torch.unique(labels.long())
        if len(present) == n:
            auroc = C.multiclass_auroc(probs, labels.long(), n, average="macro")
            auprc = C.multiclass_average_precision(probs, labels.long(), n, average="macro")
        else:  # classes absent from these labels (--allow-missing-classes) are left out of the average
            auroc = C.multiclass_auroc(probs, labels.long(), n, average="none")[present].mean()
            auprc = C.multiclass_average_precision(probs, labels.long(), n, average="none")[present].mean()
    else:
        n = probs.shape[1]
        auroc = C.multilabel_auroc(probs, labels.long(), n, average="macro", ignore_index=-1)
        auprc = C.multilabel_average_precision(probs, labels.long(), n, average="macro", ignore_index=-1)
    return {"auroc": float(auroc), "auprc": float(auprc)}
