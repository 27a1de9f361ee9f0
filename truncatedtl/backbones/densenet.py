"""DenseNets (timm ``densenet*``): stem + every dense layer and transition; block b ends at transition b."""

from __future__ import annotations

import torch
from timm.layers import get_norm_act_layer
from timm.models.densenet import DenseLayer, DenseTransition
from torch import nn

from ._base import Backbone, Family, Unit, out_channels


class DenseUnit(nn.Module):
    """One dense layer as a link of the chain: ``x -> cat([x, layer(x)])``, exactly what its DenseBlock does."""

    def __init__(self, layer: nn.Module, in_channels: int) -> None:
        super().__init__()
        self.layer = layer
        self.out_channels = in_channels + out_channels(layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.layer(x)], 1)


class DenseNetFamily(Family):
    def decompose(self, model: nn.Module) -> tuple[list[Unit], nn.Module | None]:
        f = model.features
        units = [Unit("features.stem", 0, nn.Sequential(f.conv0, f.norm0, f.pool0))]
        channels = out_channels(f.conv0)
        for b in range(1, 5):
            block = getattr(f, f"denseblock{b}")
            for name, layer in block.items():
                unit = DenseUnit(layer, channels)
                channels = unit.out_channels
                units.append(Unit(f"features.denseblock{b}.{name}", b, unit))
            if hasattr(f, f"transition{b}"):
                transition = getattr(f, f"transition{b}")
                channels = out_channels(transition)
                units.append(Unit(f"features.transition{b}", b, transition))
        return units, f.norm5

    def halve(self, backbone: Backbone, cut: int) -> tuple[list[nn.Module], nn.Module | None]:
        """Every dense layer above ``cut`` rebuilt with half the growth rate (its bottleneck, bn_size x growth,
        halves with it); transitions above the cut keep their compression (half their input, as in DenseNet-BC)
        and so follow the narrower widths; the final norm follows too. Fresh weights, DenseNet's own init
        (Kaiming-normal convolutions, BN weight 1, bias 0)."""
        channels = backbone.cut_points[cut].channels
        units: list[nn.Module] = []
        for unit in (u.module for u in backbone.units[cut + 1:]):
            if isinstance(unit, DenseUnit):
                layer = unit.layer
                growth = layer.conv2.out_channels
                half = DenseLayer(channels, growth // 2, layer.conv1.out_channels // growth,
                                  norm_layer=_norm_act(layer.norm1))
                units.append(DenseUnit(half, channels))
            else:
                compressed = channels * unit.conv.out_channels // unit.conv.in_channels
                units.append(DenseTransition(channels, compressed, norm_layer=_norm_act(unit.norm)))
            channels = out_channels(units[-1])
        neck = _norm_act(backbone.neck)(channels)
        for module in nn.ModuleList([*units, neck]).modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight)
        return units, neck


def _norm_act(norm: nn.Module):
    """The norm + activation layer type of a timm BatchNormAct2d, to build another one of any width."""
    return get_norm_act_layer(nn.BatchNorm2d, type(norm.act))
