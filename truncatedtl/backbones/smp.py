"""U-Net encoders: segmentation-models-pytorch (smp) encoders seen as a chain of blocks, serving segmentation.

A U-Net backbone ``unet_<encoder>`` is an smp encoder decomposed into units, one per block: the stem, then
each stage (a ResNet layer, an EfficientNet block group). Every unit boundary is a cut point; the decoder
takes its skip connections from the last kept unit at each resolution. smp's own ``encoder_depth`` only skips
stages in ``forward`` (their parameters stay); here the units above a cut are simply not built.
"""

from __future__ import annotations

import torch
from torch import nn

from ._base import BackboneError, Family, Unit

# Keys of a classification checkpoint that an encoder has no place for (EfficientNet's neck).
_NECK = ("conv_head.", "bn2.")


class SmpFamily(Family):
    """An smp encoder named ``encoder`` (its weights are known under that name); ImageNet preprocessing."""

    tasks = ("segmentation",)

    def __init__(self, encoder: str) -> None:
        self.encoder = encoder

    def weights_name(self, name: str) -> str:
        return self.encoder

    def preprocessing(self, model: nn.Module) -> tuple[tuple[float, ...], tuple[float, ...]]:
        return (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)

    def weight_target(self, model: nn.Module) -> nn.Module:
        """The timm universal encoder wraps the timm model that the keys name."""
        return getattr(model, "model", model)

    def adapt_state(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Classifier-checkpoint keys without a place in the encoder (the neck) are dropped."""
        return {k: v for k, v in state.items() if not k.startswith(_NECK)}


class SmpResNetFamily(SmpFamily):
    """smp's ResNet encoders (torchvision layout): stem = conv1 + BN + ReLU (stride 2, the first skip),
    then max-pool + layer1, layer2, layer3, layer4 — one unit each."""

    def create(self, name: str, pretrained: bool) -> nn.Module:
        from segmentation_models_pytorch.encoders import get_encoder

        return get_encoder(self.encoder, weights="imagenet" if pretrained else None)

    def decompose(self, model: nn.Module) -> tuple[list[Unit], nn.Module | None]:
        units = [Unit("stem", 0, nn.Sequential(model.conv1, model.bn1, model.relu)),
                 Unit("layer1", 1, nn.Sequential(model.maxpool, model.layer1))]
        units += [Unit(f"layer{b}", b, getattr(model, f"layer{b}")) for b in range(2, 5)]
        return units, None


class SmpTimmEfficientNetFamily(SmpFamily):
    """smp's timm universal encoder (``tu-<name>``) on a timm EfficientNet / MobileNetV2: stem = conv_stem + BN,
    then each of timm's block groups ``blocks.i`` as one unit."""

    def create(self, name: str, pretrained: bool) -> nn.Module:
        from segmentation_models_pytorch.encoders import get_encoder

        return get_encoder(f"tu-{self.encoder}", weights=True if pretrained else None)

    def decompose(self, model: nn.Module) -> tuple[list[Unit], nn.Module | None]:
        features = model.model
        if not all(hasattr(features, a) for a in ("conv_stem", "bn1", "blocks")):
            raise BackboneError(f"cannot cut U-Net encoder tu-{self.encoder}: it is not an EfficientNet-style "
                                "chain (conv_stem, bn1, blocks)")
        units = [Unit("stem", 0, nn.Sequential(features.conv_stem, features.bn1))]
        units += [Unit(f"blocks.{i}", i + 1, group) for i, group in enumerate(features.blocks)]
        return units, None
