"""U-Net encoders: segmentation-models-pytorch (smp) encoders seen as a chain of blocks, with their weights.

A U-Net backbone ``unet_<encoder>`` is an smp encoder decomposed into units, one per block: the stem, then
each stage (a ResNet layer, an EfficientNet block group). Every unit boundary is a cut point; the decoder
takes its skip connections from the last kept unit at each resolution. smp's own ``encoder_depth`` only skips
stages in ``forward`` (their parameters stay); here the units above a cut are simply not built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..backbones import UNET_PREFIX, Backbone, BackboneError, Family, Unit
from ..backbones.weights import (
    MIN_COVERAGE,
    download_pretrained,
    efficientnet_lite0_offline,
    load_weights,
    read_weights,
)

# Keys of a classification checkpoint that an encoder has no place for (EfficientNet's neck).
_NECK = ("conv_head.", "bn2.")


class SmpResNetFamily(Family):
    """smp's ResNet encoders (torchvision layout): stem = conv1 + BN + ReLU (stride 2, the first skip),
    then max-pool + layer1, layer2, layer3, layer4 — one unit each."""

    def create(self, name: str, pretrained: bool) -> nn.Module:
        from segmentation_models_pytorch.encoders import get_encoder

        return get_encoder(name, weights="imagenet" if pretrained else None)

    def decompose(self, model: nn.Module) -> tuple[list[Unit], nn.Module | None]:
        units = [Unit("stem", 0, nn.Sequential(model.conv1, model.bn1, model.relu)),
                 Unit("layer1", 1, nn.Sequential(model.maxpool, model.layer1))]
        units += [Unit(f"layer{b}", b, getattr(model, f"layer{b}")) for b in range(2, 5)]
        return units, None


class SmpTimmEfficientNetFamily(Family):
    """smp's timm universal encoder (``tu-<name>``) on a timm EfficientNet / MobileNetV2: stem = conv_stem + BN,
    then each of timm's block groups ``blocks.i`` as one unit."""

    def create(self, name: str, pretrained: bool) -> nn.Module:
        from segmentation_models_pytorch.encoders import get_encoder

        return get_encoder(f"tu-{name}", weights=True if pretrained else None)

    def decompose(self, model: nn.Module) -> tuple[list[Unit], nn.Module | None]:
        features = model.model
        if not all(hasattr(features, a) for a in ("conv_stem", "bn1", "blocks")):
            raise BackboneError(f"cannot cut U-Net encoder tu-{model.name}: it is not an EfficientNet-style "
                                "chain (conv_stem, bn1, blocks)")
        units = [Unit("stem", 0, nn.Sequential(features.conv_stem, features.bn1))]
        units += [Unit(f"blocks.{i}", i + 1, group) for i, group in enumerate(features.blocks)]
        return units, None


@dataclass(frozen=True)
class _Entry:
    encoder: str
    family: Family
    offline: Callable[[], dict[str, torch.Tensor]] | None = None


_REGISTRY: dict[str, _Entry] = {}


def register(name: str, encoder: str, family: Family,
             offline: Callable[[], dict[str, torch.Tensor]] | None = None) -> None:
    """Declare U-Net backbone ``name`` on smp/timm encoder ``encoder``; ``offline`` supplies ImageNet weights
    (in the encoder's own key layout) without network."""
    _REGISTRY[name] = _Entry(encoder, family, offline)


for _name in ("resnet18", "resnet34", "resnet50"):
    register(UNET_PREFIX + _name, _name, SmpResNetFamily())
for _name in ("efficientnet_b0", "mobilenetv2_100"):
    register(UNET_PREFIX + _name, _name, SmpTimmEfficientNetFamily())
register(UNET_PREFIX + "efficientnet_lite0", "efficientnet_lite0", SmpTimmEfficientNetFamily(),
         offline=efficientnet_lite0_offline)


def available() -> list[str]:
    return sorted(_REGISTRY)


def load_encoder(name: str, weights: str | Path = "none") -> Backbone:
    """The encoder of U-Net backbone ``name`` as a chain of units (cut points at its block boundaries).

    ``weights``: ``"none"`` (random init, the same for every call), ``"pretrained"`` (offline package where
    one exists, else the model hub) or a ``.safetensors``/``.pth`` file in the encoder's layout (torchvision /
    timm key names; classifier and neck keys are ignored)."""
    if name not in _REGISTRY:
        raise BackboneError(f"unknown U-Net backbone {name!r}; known: {', '.join(available())}")
    entry = _REGISTRY[name]
    weights = str(weights)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        encoder = _create(entry, weights)
    units, _ = entry.family.decompose(encoder)
    return Backbone(name=name, family=entry.family, units=units, neck=None, weights=weights)


def _create(entry: _Entry, weights: str) -> nn.Module:
    if weights == "pretrained" and entry.offline is None:
        return download_pretrained(entry.family.create, entry.encoder)
    encoder = entry.family.create(entry.encoder, pretrained=False)
    if weights == "none":
        return encoder
    state = entry.offline() if weights == "pretrained" else read_weights(weights, entry.encoder)
    target = getattr(encoder, "model", encoder)  # the timm universal encoder wraps the timm model
    state = {k: v for k, v in state.items() if not k.startswith(_NECK)}
    source = f"offline package for {entry.encoder}" if weights == "pretrained" else weights
    load_weights(target, entry.family.weight_units(encoder), state, source, 1.0 if weights == "pretrained" else
                 MIN_COVERAGE)
    return encoder
