"""Full transfer learning: the whole pretrained network with a new head, everything finetuned."""

from ..backbones import Backbone
from ..surgery import Network
from ._base import HeadSpec, Strategy, full_network


class FullTransfer(Strategy):
    name = "ftl"
    uses_cut = False

    def build(self, backbone: Backbone, cut: int, head: HeadSpec) -> Network:
        return full_network(backbone, head)
