"""TransFusion: the pretrained units up to the cut (weights and BN statistics) are finetuned; every unit above
the cut, and the neck, is rebuilt at half width with fresh weights and trained from scratch.

What "half width" means is the backbone family's business (:meth:`Family.halve`)."""

from torch import nn

from ..backbones import Backbone
from ..backbones._base import out_channels
from ._base import Body, Strategy


class TransFusion(Strategy):
    name = "tf"

    def body(self, backbone: Backbone, cut: int) -> Body:
        halved, neck = backbone.family.halve(backbone, cut)
        units = nn.Sequential(*backbone.body(cut), *halved)
        channels = out_channels(neck) if neck is not None else out_channels(units[-1])
        fresh = (*(f"body.{i}" for i in range(cut + 1, len(units))), *(("neck",) if neck is not None else ()))
        return Body(units, neck, channels, cut, fresh)
