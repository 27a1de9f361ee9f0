"""Classification (binary, multi-class, multi-label): a strategy's network with a new head, cross-entropy (or
per-label BCE), AUROC and AUPRC macro-averaged over classes."""

from __future__ import annotations

import numpy as np
import torch

from ...backbones import Backbone, available
from ...data import DataError, DataSplits, ImageDataset, Preprocessing, build_cache, load_data
from ...data.masks import is_mask_source
from ...spec import ModelSpec
from ...strategies import get_strategy
from ...surgery import Network, attach_head
from .._base import Evaluation, Monitor, Task
from .metrics import loss_fn, probabilities, scores


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

    def arrays(self) -> dict[str, np.ndarray]:
        return {"labels": torch.cat(self.labels).numpy(), "scores": torch.cat(self.probs).numpy()}


class Classification(Task):
    name = "classification"
    monitors = (Monitor("auprc"), Monitor("auroc"), Monitor("loss", maximize=False))
    kinds = ("binary", "multiclass", "multilabel")
    shown = ("auroc", "auprc")
    labels = {"auroc": "AUROC", "auprc": "AUPRC"}
    feature_search = True

    def load_data(self, config) -> DataSplits:
        if is_mask_source(config.data):
            raise DataError(f"{config.data} holds image/mask pairs: that is segmentation data; use a backbone "
                            f"that serves segmentation ({', '.join(available(task='segmentation'))})")
        return load_data(config.data, seed=config.split_seed, limit=config.limit,
                         allow_missing_classes=config.allow_missing_classes, dedupe=config.dedupe)

    def dataset(self, prepared, split: str, config) -> ImageDataset:
        """Items decoded and preprocessed one at a time, through the cache ``config.cache`` kept in
        ``prepared`` (shared by the trials of a search)."""
        backbone, data = prepared.backbone, prepared.data
        prep = Preprocessing(config.image_size, data.spatial_dims, backbone.mean, backbone.std, backbone.in_chans,
                             config.intensity)
        samples = data.splits()[split]
        key = (split, config.image_size, config.intensity, config.cache)
        if key not in prepared.caches:
            prepared.caches[key] = build_cache(config.cache, samples, prep, prepared.cache_folder)
        return ImageDataset(samples, prep, train=split == "train" and config.augment, cache=prepared.caches[key])

    def build(self, spec: ModelSpec, backbone: Backbone) -> Network:
        """The strategy's body under a new head of ``spec.head.num_classes`` logits."""
        body = get_strategy(spec.strategy).body(backbone, spec.cut)
        head = spec.head
        return attach_head(body.units, body.neck, body.channels, head.num_classes, pool=head.pool,
                           spatial_dims=backbone.spatial_dims, input_shape=backbone.input_shape(head.image_size),
                           hidden=head.hidden, fresh=("head", *body.fresh))

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor, kind: str) -> torch.Tensor:
        return loss_fn(outputs, targets, kind)

    def probabilities(self, outputs: torch.Tensor, kind: str) -> torch.Tensor:
        return probabilities(outputs, kind)

    def evaluation(self, kind: str) -> Evaluation:
        return ClassificationEvaluation(kind)
