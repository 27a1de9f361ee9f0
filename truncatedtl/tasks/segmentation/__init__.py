"""Segmentation: U-Nets on pretrained encoders (the backbones that serve segmentation, :mod:`truncatedtl.backbones
.smp`), truncated symmetrically (:mod:`.unet`), Dice + BCE (binary masks, one logit map) or Dice + CE (N
classes, N maps), Dice and Jaccard per class and mean (:mod:`.metrics`); selection on validation Dice; mask
PNGs as predictions (:mod:`.writer`).

Strategies are the one table's: ftl (the full U-Net), ttl (symmetric truncation at the cut), lwft (encoder units
up to the cut frozen, those above at η/10, decoder and head at η), linear (the whole encoder frozen); tf is
refused (see ``Segmentation.refused``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from ...backbones import Backbone
from ...data.masks import (
    MaskDataset,
    MaskSplits,
    check_mask_classes,
    load_masks,
    parse_mask_values,
    preprocess_pairs,
)
from ...spec import ModelSpec
from ...strategies import get_strategy
from .._base import Evaluation, Monitor, Task
from .losses import segmentation_loss
from .metrics import DiceJaccard
from .unet import UNet, build_unet
from .writer import write_predictions


def out_channels(num_classes: int) -> int:
    """Logit maps for ``num_classes`` mask classes: one (sigmoid) for a binary mask, else one per class."""
    return 1 if num_classes == 2 else num_classes


class SegmentationEvaluation(Evaluation):
    """Streaming Dice/Jaccard over a split, flattened to scores: ``dice``, ``jaccard`` (means over the scored
    classes), ``dice_<class>``, ``jaccard_<class>``, and the mean ``loss``."""

    def __init__(self) -> None:
        self.scores: DiceJaccard | None = None
        self.loss_sum, self.count = 0.0, 0

    def update(self, outputs: torch.Tensor, targets: torch.Tensor, loss: float) -> None:
        self.scores = self.scores or DiceJaccard(outputs.shape[1])
        self.scores.update(outputs.cpu(), targets.cpu())
        self.loss_sum += loss * len(targets)
        self.count += len(targets)

    def compute(self) -> dict[str, float]:
        computed = self.scores.compute()
        per_class = {f"{score}_{c}": value for score in ("dice", "jaccard")
                     for c, value in computed[f"{score}_per_class"].items()}
        return {"dice": computed["dice"], "jaccard": computed["jaccard"], **per_class,
                "loss": self.loss_sum / max(self.count, 1)}

    def arrays(self) -> dict[str, np.ndarray]:
        return {"counts": self.scores.per_image_counts()}


class Segmentation(Task):
    name = "segmentation"
    monitors = (Monitor("dice"), Monitor("jaccard"), Monitor("loss", maximize=False))
    kinds = ("segmentation",)
    prediction_files = True
    shown = ("jaccard", "dice")
    labels = {"dice": "Dice", "jaccard": "Jaccard"}
    refused = {
        "tf": "TransFusion rebuilds the layers above the cut at half width from scratch; in a U-Net those layers "
              "feed the decoder's skip connections, and no half-width rule for them is defined — use ttl, ftl, "
              "lwft or linear",
    }

    def default_monitor(self, recipe_monitor: str) -> str:
        return "dice"

    def load_data(self, config) -> MaskSplits:
        values = parse_mask_values(config.mask_values) if config.mask_values else None
        return load_masks(config.data, seed=config.split_seed, mask_values=values, limit=config.limit)

    def dataset(self, prepared, split: str, config) -> MaskDataset:
        """Pairs decoded and resized once per size (every split at the first call, kept in ``prepared``, so a
        class absent from a split is refused before training: :func:`check_mask_classes`); joint
        augmentation."""
        key = ("pairs", config.image_size, config.intensity)
        if key not in prepared.caches:
            data = prepared.data
            pairs = {name: preprocess_pairs(samples, config.image_size, data.mask_values, config.intensity)
                     for name, samples in data.splits().items()}
            check_mask_classes(data, {name: masks for name, (_, masks) in pairs.items()})
            prepared.caches[key] = pairs
        images, masks = prepared.caches[key][split]
        backbone = prepared.backbone
        return MaskDataset(images, masks, backbone.mean, backbone.std, train=split == "train" and config.augment,
                           in_chans=backbone.in_chans)

    def build(self, spec: ModelSpec, backbone: Backbone) -> UNet:
        """The strategy's encoder units under a U-Net decoder rebuilt to their depth."""
        body = get_strategy(spec.strategy).body(backbone, spec.cut)
        return build_unet(backbone, body.cut, out_channels(spec.head.num_classes), body.units)

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor, kind: str) -> torch.Tensor:
        return segmentation_loss(outputs, targets)

    def probabilities(self, outputs: torch.Tensor, kind: str) -> torch.Tensor:
        return torch.sigmoid(outputs) if outputs.shape[1] == 1 else torch.softmax(outputs, 1)

    def evaluation(self, kind: str) -> Evaluation:
        return SegmentationEvaluation()

    def write_predictions(self, model: nn.Module, files: list[Path], out: Path, preprocessing: dict, config,
                          probabilities: bool) -> tuple[list[Path], list[str]]:
        """A mask PNG per image at its original size, in the run's mask values (``<stem>.npy`` probabilities
        too with ``probabilities``)."""
        values = parse_mask_values(config.mask_values) if config.mask_values else None
        return write_predictions(model, files, out, preprocessing["image_size"], preprocessing["mean"],
                                 preprocessing["std"], values, probabilities, preprocessing["in_chans"],
                                 preprocessing["intensity"])
