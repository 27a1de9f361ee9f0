"""3D ResNets (``resnet18_3d``, ``resnet50_3d``, ``resnext101_3d``): timm's ResNet architectures with every
layer made 3D (k×k×k kernels, zero padding, strides on all three axes), freshly initialised in 3D.

Same units, blocks and cut points as the 2D network (ResNeXt-101 32×4d: 3+4+23+3 units → k = 0..33, block ends
3, 7, 30, 33: the paper's ResNeXt3D-101). The state dict keeps timm's (torchvision's) key layout with 5D
kernels, so a 3D checkpoint in that layout loads with ``--weights FILE``."""

from __future__ import annotations

import timm
from torch import nn

from ._base import Backbone, BackboneError
from .inflate import Inflation, to_3d
from .resnet import ResNetFamily

_FEATURES = ("conv1", "bn1", "maxpool", "layer1", "layer2", "layer3", "layer4")
ISOTROPIC = Inflation(depth=None, replicate=False, inflate_weights=False)


class ResNet3dFamily(ResNetFamily):
    """A timm ResNet architecture (``source``) built in 3D by ``inflation``; ``stem_stride`` overrides the
    first convolution's stride per axis where a 3D design keeps more depth."""

    spatial_dims = 3

    def __init__(self, source: str, inflation: Inflation = ISOTROPIC,
                 stem_stride: tuple[int, int, int] | None = None) -> None:
        self.source, self.inflation, self.stem_stride = source, inflation, stem_stride

    def create(self, name: str, pretrained: bool) -> nn.Module:
        """Random 3D network; pretrained weights come through the registry's offline supplier."""
        model = timm.create_model(self.source, pretrained=False, num_classes=0, global_pool="")
        for attr in _FEATURES:
            setattr(model, attr, to_3d(getattr(model, attr), self.inflation))
        if self.stem_stride is not None:
            model.conv1.stride = self.stem_stride
        init_3d(model)
        return model

    def halve(self, backbone: Backbone, cut: int) -> tuple[list[nn.Module], nn.Module | None]:
        """The 2D family's half-planes units (see :meth:`ResNetFamily.halve`), made 3D and freshly initialised."""
        units, _ = super().halve(backbone, cut)
        units = [to_3d(u, self.inflation) for u in units]
        init_3d(nn.Sequential(*units))
        return units, None


def init_3d(model: nn.Module) -> None:
    """timm's ResNet initialisation in 3D: Kaiming-normal convolutions (fan out), BN weight 1 and bias 0, and
    the last BN of every residual unit zeroed (each unit starts as the identity)."""
    for m in model.modules():
        if isinstance(m, nn.Conv3d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm3d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    for m in model.modules():
        if hasattr(m, "zero_init_last"):
            m.zero_init_last()


def no_pretrained_message(name: str) -> str:
    return (f"no pretrained weights ship for {name}: train it from random init (--weights none), give a 3D "
            "checkpoint in the timm/torchvision key layout (--weights FILE), or start from ImageNet in 3D "
            "(a 2D backbone with --inflate) or from CT (ct_resnet152_3d)")


def no_pretrained(name: str):
    """The registry's weights supplier for a backbone that has none: says so."""

    def refuse():
        raise BackboneError(no_pretrained_message(name))

    return refuse
