"""Full transfer learning: the whole pretrained network with a new head, everything finetuned."""

from ._base import Strategy


class FullTransfer(Strategy):
    name = "ftl"
    uses_cut = False
