"""ResNets (timm ``resnet*``, ``resnext*``): stem + every residual unit; the four layers are the blocks."""

from __future__ import annotations

from timm.models.resnet import BasicBlock, Bottleneck, ResNet, downsample_conv
from torch import nn

from ._base import Backbone, BackboneError, Family, Unit, out_channels


class ResNetFamily(Family):
    def decompose(self, model: nn.Module) -> tuple[list[Unit], nn.Module | None]:
        stem = nn.Sequential(model.conv1, model.bn1, model.act1, model.maxpool)
        units = [Unit("stem", 0, stem)]
        for b in range(1, 5):
            layer = getattr(model, f"layer{b}")
            units += [Unit(f"layer{b}.{i}", b, unit) for i, unit in enumerate(layer)]
        return units, None

    def halve(self, backbone: Backbone, cut: int) -> tuple[list[nn.Module], nn.Module | None]:
        """Every residual unit above ``cut`` rebuilt with half its ``planes`` (so half the width of all three
        convolutions of a bottleneck, or both of a basic block), same stride, cardinality and base width.

        A unit gets a 1x1 conv + BN shortcut wherever its input and output widths differ or it strides: the
        first half-width unit after a cut inside a block receives the full-width features of the kept unit.
        Weights are fresh, initialised as timm initialises a ResNet (zero-init of each unit's last BN)."""
        channels = backbone.cut_points[cut].channels
        units = []
        for unit in (u.module for u in backbone.units[cut + 1:]):
            units.append(_half_unit(unit, channels))
            channels = out_channels(units[-1])
        body = nn.Sequential(*units)
        ResNet.init_weights(body, zero_init_last=True)
        return units, None


def _half_unit(unit: nn.Module, in_channels: int) -> nn.Module:
    """A fresh ``unit`` (timm BasicBlock or Bottleneck) with half its planes, fed ``in_channels``."""
    if not isinstance(unit, (BasicBlock, Bottleneck)) or unit.se is not None or not isinstance(unit.aa, nn.Identity):
        raise BackboneError(f"TransFusion supports plain timm BasicBlock/Bottleneck units, not {type(unit).__name__} "
                            "with attention or anti-aliasing")
    cardinality = unit.conv2.groups
    planes = unit.conv3.out_channels // unit.expansion if isinstance(unit, Bottleneck) else unit.conv2.out_channels
    base_width = unit.conv2.out_channels // cardinality * 64 // planes
    half = planes // 2
    out = half * unit.expansion
    downsample = None
    if unit.stride != 1 or in_channels != out:
        downsample = downsample_conv(in_channels, out, kernel_size=1, stride=unit.stride, norm_layer=type(unit.bn1))
    return type(unit)(in_channels, half, stride=unit.stride, downsample=downsample, cardinality=cardinality,
                      base_width=base_width, act_layer=type(unit.act1), norm_layer=type(unit.bn1))
