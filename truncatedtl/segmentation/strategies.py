"""Transfer-learning strategies for U-Nets: what each builds and how it trains.

- ``ftl``: the full U-Net, everything finetuned at η.
- ``ttl``: symmetric truncation at the cut (encoder units above it and their decoder stages not built),
  everything finetuned at η.
- ``lwft``: the full U-Net; encoder units up to the cut frozen (BN statistics too), the encoder units above
  it at η/10, decoder and head at η.
- ``linear``: the full U-Net with the whole encoder frozen; decoder and head trained at η.
- ``tf`` is refused (see ``_REFUSED``).
"""

from __future__ import annotations

from pathlib import Path

from torch import nn

from ..backbones import Backbone
from ..strategies import TrainingPlan
from ..strategies.lwft import LOWER_LR_FACTOR
from .encoders import load_encoder
from .unet import UNet, build_unet

STRATEGIES = ("ftl", "ttl", "lwft", "linear")
_USES_CUT = {"ftl": False, "ttl": True, "lwft": True, "linear": False}
_REFUSED = {
    "tf": "TransFusion rebuilds the layers above the cut at half width from scratch; in a U-Net those layers "
          "feed the decoder's skip connections, and no half-width rule for them is defined — use ttl, ftl, "
          "lwft or linear",
}


def check_strategy(strategy: str) -> None:
    if strategy in _REFUSED:
        raise ValueError(f"strategy {strategy} is not available for segmentation: {_REFUSED[strategy]}")
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown segmentation strategy {strategy!r}; choose one of {', '.join(STRATEGIES)}")


def build_segmentation(strategy: str, backbone_name: str, weights: str | Path, cut: int | None,
                       num_classes: int) -> UNet:
    """The U-Net ``strategy`` trains on U-Net backbone ``backbone_name`` at encoder cut point ``cut`` (ignored
    by ftl and linear). ``num_classes`` output maps: 1 for binary masks (sigmoid), N >= 2 for N classes
    (softmax)."""
    if num_classes < 1:
        raise ValueError(f"num_classes must be at least 1 (1 = binary mask), got {num_classes}")
    return unet_for(strategy, load_encoder(backbone_name, weights), cut, num_classes)


def unet_for(strategy: str, backbone: Backbone, cut: int | None, out_channels: int) -> UNet:
    """The U-Net ``strategy`` trains on the encoder ``backbone`` at ``cut`` with ``out_channels`` logit maps."""
    check_strategy(strategy)
    if not _USES_CUT[strategy]:
        cut = backbone.last_cut
    elif cut is None:
        raise ValueError(f"strategy {strategy} needs a cut point (--cut K, 0..{backbone.last_cut}; block "
                         f"boundaries of {backbone.name}: {', '.join(map(str, backbone.block_ends))})")
    backbone.check_cut(cut)
    if strategy == "lwft" and cut == backbone.last_cut:
        raise ValueError(f"lwft at cut {cut} freezes the whole encoder (that is the linear strategy); "
                         f"choose a --cut below {cut}")
    if strategy == "ttl":
        return build_unet(backbone, cut, out_channels)
    frozen = {"ftl": None, "lwft": cut, "linear": backbone.last_cut}[strategy]
    return build_unet(backbone, backbone.last_cut, out_channels, frozen_cut=frozen)


def training_plan(model: nn.Module, lr: float) -> TrainingPlan:
    """Parameter groups of a (possibly DDP/DataParallel-wrapped) U-Net: decoder and head at ``lr``; the
    unfrozen encoder at ``lr`` (nothing frozen) or ``lr``/10 (above a frozen part); frozen units listed."""
    model: UNet = getattr(model, "module", model)
    new = {"params": list(model.decoder.parameters()) + list(model.head.parameters()), "lr": lr, "pretrained": False}
    if model.frozen_cut is None:
        return TrainingPlan([{"params": list(model.encoder.parameters()), "lr": lr, "pretrained": True}, new])
    frozen = list(model.encoder[: model.frozen_cut + 1])
    top = [p for unit in model.encoder[model.frozen_cut + 1:] for p in unit.parameters()]
    groups = [new]
    if top:
        groups.append({"params": top, "lr": lr * LOWER_LR_FACTOR, "pretrained": True})
    return TrainingPlan(groups, frozen=frozen)
