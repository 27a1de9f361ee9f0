"""EfficientNets (timm ``efficientnet_*``, ``tf_efficientnet_*``, ``mobilenetv2_*``): stem + every MBConv
block; the stages are the blocks. The neck (conv_head + BN) belongs to the full model only."""

from __future__ import annotations

from torch import nn

from ._base import Family, Unit


class EfficientNetFamily(Family):
    def decompose(self, model: nn.Module) -> tuple[list[Unit], nn.Module | None]:
        units = [Unit("stem", 0, nn.Sequential(model.conv_stem, model.bn1))]
        for s, stage in enumerate(model.blocks):
            units += [Unit(f"blocks.{s}.{i}", s + 1, block) for i, block in enumerate(stage)]
        return units, nn.Sequential(model.conv_head, model.bn2)
