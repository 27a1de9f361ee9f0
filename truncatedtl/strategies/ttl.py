"""Truncated transfer learning: stem + the first k pretrained units, a new head, everything finetuned.

Everything above the cut (and the neck) is not built at all."""

from ..backbones import Backbone
from ..surgery import Network
from ._base import HeadSpec, Strategy, _with_head


class Truncated(Strategy):
    name = "ttl"

    def build(self, backbone: Backbone, cut: int, head: HeadSpec) -> Network:
        return _with_head(backbone, backbone.body(cut), None, backbone.cut_points[cut].channels, head)
