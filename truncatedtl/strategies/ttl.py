"""Truncated transfer learning: stem + the first k pretrained units, a new head, everything finetuned.

Everything above the cut (and the neck) is not built at all."""

from ..backbones import Backbone
from ._base import Body, Strategy


class Truncated(Strategy):
    name = "ttl"

    def body(self, backbone: Backbone, cut: int) -> Body:
        return Body(backbone.body(cut), None, backbone.cut_points[cut].channels, cut)
