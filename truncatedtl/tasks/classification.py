"""Classification (binary, multi-class, multi-label): a strategy's network with a new head, cross-entropy (or
per-label BCE), AUROC and AUPRC macro-averaged over classes."""

from __future__ import annotations

import torch
from torch import nn

from ..backbones import Backbone
from ..engine.metrics import loss_fn, probabilities, scores
from ..spec import ModelSpec
from ..strategies import TrainingPlan, build, get_strategy
from ._base import Evaluation, Monitor, Task


class ClassificationEvaluation(Evaluation):
    """Keeps the probabilities and labels of a split (AUROC/AUPRC need them all) and the summed loss."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.probs: list[torch.Tensor] = []
        self.labels: list[torch.Tensor] = []
        self.loss_sum, self.count = 0.0, 0

    def update(self, outputs: torch.Tensor, targets: torch.Tensor, loss: float) -> None:
        self.probs.append(probabilities(outputs.float(), self.kind).cpu())
        self.labels.append(targets.cpu())
        self.loss_sum += loss * len(targets)
        self.count += len(targets)

    def compute(self) -> dict[str, float]:
        return {**scores(torch.cat(self.probs), torch.cat(self.labels), self.kind),
                "loss": self.loss_sum / max(self.count, 1)}


class Classification(Task):
    name = "classification"
    monitors = (Monitor("auprc"), Monitor("auroc"), Monitor("loss", maximize=False))

    def build(self, spec: ModelSpec, backbone: Backbone) -> nn.Module:
        return build(spec.strategy, backbone, spec.cut, spec.head)

    def plan(self, spec: ModelSpec, model: nn.Module, lr: float) -> TrainingPlan:
        return get_strategy(spec.strategy).plan(model, lr)

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor, kind: str) -> torch.Tensor:
        return loss_fn(outputs, targets, kind)

    def probabilities(self, outputs: torch.Tensor, kind: str) -> torch.Tensor:
        return probabilities(outputs, kind)

    def evaluation(self, kind: str) -> Evaluation:
        return ClassificationEvaluation(kind)
