"""TransFusion: the pretrained units up to the cut (weights and BN statistics) are finetuned; every unit above
the cut, and the neck, is rebuilt at half width with fresh weights and trained from scratch.

What "half width" means is the backbone family's business (:meth:`Family.halve`)."""

from torch import nn

from ..backbones import Backbone
from ..backbones._base import out_channels
from ..surgery import Network
from ._base import HeadSpec, Strategy, _with_head


class TransFusion(Strategy):
    name = "tf"

    def build(self, backbone: Backbone, cut: int, head: HeadSpec) -> Network:
        halved, neck = backbone.family.halve(backbone, cut)
        body = nn.Sequential(*backbone.body(cut), *halved)
        channels = out_channels(neck) if neck is not None else out_channels(body[-1])
        fresh = ("head", *(f"body.{i}" for i in range(cut + 1, len(body))), *(("neck",) if neck is not None else ()))
        return _with_head(backbone, body, neck, channels, head, fresh)
