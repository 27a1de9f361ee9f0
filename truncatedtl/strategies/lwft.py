"""Layer-wise finetuning: the stem and the first k units frozen (BN statistics too), the units above the cut
and the neck finetuned at η/10, the new head trained at η."""

from __future__ import annotations

from torch import nn

from ..backbones import Backbone
from ..surgery import Network
from ._base import HeadSpec, Strategy, TrainingPlan, full_network

LOWER_LR_FACTOR = 0.1


class LayerWiseNetwork(Network):
    """The full network, knowing the cut point up to which it stays frozen (``frozen_cut``)."""

    def __init__(self, network: Network, frozen_cut: int) -> None:
        super().__init__(network.body, network.head, network.neck, network.fresh)
        self.frozen_cut = frozen_cut


class LayerWise(Strategy):
    name = "lwft"

    def build(self, backbone: Backbone, cut: int, head: HeadSpec) -> Network:
        return LayerWiseNetwork(full_network(backbone, head), cut)

    def cut_range(self, backbone: Backbone) -> list[int]:
        """Below the last cut point, and the last one too where a neck remains to finetune."""
        return list(range(backbone.last_cut + (backbone.neck is not None)))

    def plan(self, model: nn.Module, lr: float) -> TrainingPlan:
        """Groups by parameter name of the unwrapped network (a DDP/DataParallel wrapper is looked through):
        ``head.*`` at η; ``body.i.*`` with i above the cut and ``neck.*`` at η/10; the rest frozen."""
        model = getattr(model, "module", model)
        cut = model.frozen_cut
        head, top = [], []
        for name, param in model.named_parameters():
            part, _, rest = name.partition(".")
            if part == "head":
                head.append(param)
            elif part == "neck" or int(rest.partition(".")[0]) > cut:
                top.append(param)
        if not top:
            raise ValueError(f"lwft at cut {cut} finetunes nothing but the head (that is the linear strategy); "
                             f"choose a --cut below {cut}")
        frozen: list[nn.Module] = list(model.body[: cut + 1])
        return TrainingPlan([{"params": head, "lr": lr, "pretrained": False},
                             {"params": top, "lr": lr * LOWER_LR_FACTOR, "pretrained": True}], frozen=frozen)
