"""A third task, written as a user would add one: regression of one value per image, on synthetic images whose
target is their mean brightness. Everything it needs is in this file; the test registers it with one line."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from truncatedtl.backbones import Backbone
from truncatedtl.data import Samples
from truncatedtl.spec import ModelSpec
from truncatedtl.strategies import get_strategy
from truncatedtl.surgery import Network, attach_head
from truncatedtl.tasks import Evaluation, Monitor, Task

SOURCE = "synthetic-regression"


@dataclass
class RegressionData:
    """Train/val/test images (N, H, W) uint8 with one float target each."""

    train: Samples
    val: Samples
    test: Samples
    source: str = SOURCE
    classes: list[str] = field(default_factory=lambda: ["value"])
    notes: list[str] = field(default_factory=list)
    spatial_dims = 2
    kind = "regression"
    num_classes = 1

    def splits(self) -> dict[str, Samples]:
        return {"train": self.train, "val": self.val, "test": self.test}


def synthetic_regression(seed: int, size: int = 32, count: int = 48) -> RegressionData:
    """Images of random brightness with noise; the target is the mean brightness, standardised."""
    rng = np.random.default_rng(seed)
    level = rng.uniform(0.1, 0.9, 3 * count)
    images = np.clip(level[:, None, None] + rng.normal(0, 0.1, (3 * count, size, size)), 0, 1)
    images = (images * 255).astype(np.uint8)
    target = images.mean((1, 2)) / 255
    target = ((target - target.mean()) / target.std()).astype(np.float32)
    parts = [Samples(images[i::3], target[i::3]) for i in range(3)]
    return RegressionData(*parts)


class RegressionEvaluation(Evaluation):
    def __init__(self) -> None:
        self.outputs: list[torch.Tensor] = []
        self.targets: list[torch.Tensor] = []

    def update(self, outputs: torch.Tensor, targets: torch.Tensor, loss: float) -> None:
        self.outputs.append(outputs[:, 0].detach().cpu())
        self.targets.append(targets.cpu())

    def compute(self) -> dict[str, float]:
        y_hat, y = torch.cat(self.outputs), torch.cat(self.targets)
        residual = ((y - y_hat) ** 2).sum()
        return {"mae": float((y - y_hat).abs().mean()), "r2": float(1 - residual / ((y - y.mean()) ** 2).sum()),
                "loss": float(F.mse_loss(y_hat, y))}


class Regression(Task):
    name = "regression"
    backbones_of = "classification"  # any backbone a classifier can be cut from
    monitors = (Monitor("r2"), Monitor("mae", maximize=False), Monitor("loss", maximize=False))
    kinds = ("regression",)
    shown = ("mae", "r2")
    labels = {"mae": "MAE", "r2": "R²"}

    def default_monitor(self, recipe_monitor: str) -> str:
        return "r2"

    def load_data(self, config) -> RegressionData:
        if config.data != SOURCE:
            raise ValueError(f"the regression task reads {SOURCE} only, not {config.data}")
        return synthetic_regression(config.split_seed)

    def dataset(self, prepared, split: str, config) -> TensorDataset:
        samples, backbone = prepared.data.splits()[split], prepared.backbone
        x = torch.from_numpy(samples.items).float().div(255)[:, None].expand(-1, backbone.in_chans, -1, -1)
        x = F.interpolate(x, size=config.image_size, mode="bilinear", align_corners=False)
        x = (x - torch.tensor(backbone.mean)[:, None, None]) / torch.tensor(backbone.std)[:, None, None]
        return TensorDataset(x, torch.from_numpy(samples.labels))

    def build(self, spec: ModelSpec, backbone: Backbone) -> Network:
        body = get_strategy(spec.strategy).body(backbone, spec.cut)
        return attach_head(body.units, body.neck, body.channels, 1, pool=spec.head.pool,
                           spatial_dims=backbone.spatial_dims, input_shape=backbone.input_shape(spec.head.image_size),
                           hidden=spec.head.hidden, fresh=("head", *body.fresh))

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor, kind: str) -> torch.Tensor:
        return F.mse_loss(outputs[:, 0], targets.float())

    def probabilities(self, outputs: torch.Tensor, kind: str) -> torch.Tensor:
        return outputs

    def evaluation(self, kind: str) -> Evaluation:
        return RegressionEvaluation()
