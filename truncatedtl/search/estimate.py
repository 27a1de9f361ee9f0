"""Estimator searches: score every cut point from features, without training there, then train the
strategy once (every repeat) at the best-scoring cut.

Features are the pooled (spatially averaged) outputs of every candidate cut point (``analysis.capture
.pooled_features``) on the training and validation images, without augmentation:

- ``logme``: LogME of the *pretrained* features of the training images — no training before the final one;
- ``hscore``: H-score of the same features;
- ``pretrained-probe``: a ridge probe (``analysis.estimators.ridge_probe``) fitted on the pretrained
  features of the training images, scored by its AUPRC on the validation images;
- ``probe``: the same probe on the features of the *finetuned* FTL model (seed 0; every search trains FTL
  anyway), the paper's Fig. 4 observation — one training before the final one.

The chosen cut has the highest score. Scores within rounding of the highest (an estimator at its ceiling: H-score
is 1.0 ± 1e-13 wherever the feature width reaches the number of training samples) are a declared tie, kept in
``records/ceiling.json`` and stated in the report; the smallest (cheapest) of the tied cuts is taken. The scores are kept in
``records/estimates.json`` so that a resumed search does not recompute them and the report is drawn from it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import torch
from torch.utils.data import DataLoader

from ..analysis.capture import pooled_features
from ..analysis.estimators import hscore, logme, one_hot, ridge_probe
from ..engine import RunConfig
from ..engine.run import spec_of
from ..evidence import ceiling_tie
from ..tasks import build_network
from ..tasks.classification.metrics import probabilities, scores
from .session import Choice, SearchSettings, Session

RECORD = "estimates"
CEILING = "ceiling"
STATISTICS = {
    "logme": "LogME (evidence per sample of a Bayesian linear model) of the pretrained features of the training "
             "images",
    "hscore": "H-score (between-class over total feature variance) of the pretrained features of the training "
              "images",
    "pretrained-probe": "validation AUPRC of a ridge probe fitted on the pretrained features of the training images",
    "probe": "validation AUPRC of a ridge probe fitted on the finetuned (FTL seed 0) features of the training images",
}


def _loader(session: Session, split: str) -> DataLoader:
    """``split``'s images as the model sees them in evaluation (no augmentation), in a fixed order."""
    config = replace(session.base, augment=False)
    return DataLoader(session.prepared.dataset(split, config), batch_size=config.batch_size, shuffle=False)


def _body(session: Session, finetuned: bool) -> torch.nn.Sequential:
    """The pretrained units, or those of the FTL model of seed 0 (trained, or found, here)."""
    if not finetuned:
        return session.backbone.body(session.backbone.last_cut)
    from safetensors.torch import load_file

    record = session.ftl()[0]
    network = build_network(spec_of(RunConfig.from_dict(record.config), record), session.backbone)
    network.load_state_dict(load_file(str(session.store.root / record.checkpoint)))
    return network.body


def _probe_auprc(train: np.ndarray, labels: np.ndarray, val: np.ndarray, val_labels: np.ndarray,
                 task: str) -> float:
    predictions = torch.from_numpy(ridge_probe(train, labels, val))
    return scores(probabilities(predictions, task), torch.as_tensor(val_labels), task)["auprc"]


def estimate_scores(session: Session, method: str) -> dict[int, float]:
    """The score ``method`` gives every cut point the searched strategy can train at."""
    cuts, data = session.cuts, session.prepared.data
    body = _body(session, finetuned=method == "probe")
    labels = data.splits()["train"].labels
    train = {k: v.numpy() for k, v in pooled_features(body, _loader(session, "train"), cuts, session.base.device).items()}
    if method == "logme":
        return {k: logme(train[k], one_hot(labels, data.num_classes)) for k in cuts}
    if method == "hscore":
        return {k: hscore(train[k], labels) for k in cuts}
    val = {k: v.numpy() for k, v in pooled_features(body, _loader(session, "val"), cuts, session.base.device).items()}
    targets = labels if labels.ndim == 2 else one_hot(labels, data.num_classes)
    return {k: _probe_auprc(train[k], targets, val[k], data.splits()["val"].labels, data.kind) for k in cuts}


def ceiling_statement(method: str, tied: list[int], score: float) -> str:
    """The tie declared when the estimator cannot tell several cuts apart."""
    why = (" (H-score reaches its ceiling of 1 wherever the feature width reaches the number of training samples)"
           if method == "hscore" else "")
    return (f"ceiling: {method} scores cuts {', '.join(map(str, tied))} the same ({score:.4f} within rounding){why}; "
            f"the estimator cannot choose among them, so the smallest, cut {tied[0]}, is taken as a declared tie, not "
            f"as a finding")


def estimator(method: str) -> Callable[[Session, SearchSettings], Choice]:
    """The search method that scores cut points by ``method`` (a key of ``STATISTICS``)."""

    def search(session: Session, settings: SearchSettings) -> Choice:
        saved = session.store.fetch(RECORD)
        if saved is None:
            by_cut = estimate_scores(session, method)
            session.store.put(RECORD, {"method": method, "statistic": STATISTICS[method],
                                       "scores_by_cut": [{"cut": k, "score": v} for k, v in by_cut.items()]})
        else:
            by_cut = {row["cut"]: row["score"] for row in saved["scores_by_cut"]}
        tied = ceiling_tie(by_cut)
        cut = tied[0]
        session.score([cut], f"train at the best {method} cut")
        reason = f"highest {STATISTICS[method]} among cut points {min(by_cut)}..{max(by_cut)}: {by_cut[cut]:.4f}"
        if len(tied) > 1:
            session.store.put(CEILING, {"method": method, "tied_cuts": tied, "score": by_cut[cut],
                                        "statement": ceiling_statement(method, tied, by_cut[cut])})
            reason = ceiling_statement(method, tied, by_cut[cut])
        return Choice(cut, reason, by_cut)

    search.__name__ = method.replace("-", "_")
    return search


ESTIMATORS = {name: estimator(name) for name in STATISTICS}
