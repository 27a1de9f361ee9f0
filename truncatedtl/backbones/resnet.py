"""ResNets (timm ``resnet*``, ``resnext*``): stem + every residual unit; the four layers are the blocks."""

from __future__ import annotations

from torch import nn

from ._base import Backbone, Family, Unit


class ResNetFamily(Family):
    def decompose(self, model: nn.Module) -> tuple[list[Unit], nn.Module | None]:
        stem = nn.Sequential(model.conv1, model.bn1, model.act1, model.maxpool)
        units = [Unit("stem", 0, stem)]
        for b in range(1, 5):
            layer = getattr(model, f"layer{b}")
            units += [Unit(f"layer{b}.{i}", b, unit) for i, unit in enumerate(layer)]
        return units, None

    def halve(self, backbone: Backbone, cut: int) -> tuple[list[nn.Module], nn.Module | None]:
        raise NotImplementedError
