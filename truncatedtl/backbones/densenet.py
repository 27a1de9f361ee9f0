"""DenseNets (timm ``densenet*``): stem + every dense layer and transition; block b ends at transition b."""

from __future__ import annotations

import torch
from torch import nn

from ._base import Family, Unit, out_channels


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
