"""Layer-wise finetuning: the stem and the first k units frozen (BN statistics too), the units above the cut
and the neck finetuned at η/10, the new parts (head, decoder) trained at η."""

from __future__ import annotations

from torch import nn

from ..backbones import Backbone
from ._base import Strategy, TrainingPlan, fresh_prefixes

LOWER_LR_FACTOR = 0.1


class LayerWise(Strategy):
    name = "lwft"

    def cut_range(self, backbone: Backbone) -> list[int]:
        """Below the last cut point, and the last one too where a neck remains to finetune."""
        return list(range(backbone.last_cut + (backbone.neck is not None)))

    def refusal(self, backbone: Backbone, cut: int) -> str:
        return self.refusal_message(cut)

    def plan(self, model: nn.Module, lr: float, cut: int) -> TrainingPlan:
        """Of the unwrapped network (a DDP/DataParallel wrapper is looked through): the new parts at η; the
        units above the cut and the neck at η/10; the units up to the cut frozen."""
        model = getattr(model, "module", model)
        fresh = fresh_prefixes(model)
        new = [p for name, p in model.named_parameters() if name.startswith(fresh)]
        top = [p for unit in model.body[cut + 1:] for p in unit.parameters()]
        top += list(model.neck.parameters()) if model.neck is not None else []
        if not top:
            raise ValueError(self.refusal_message(cut))
        return TrainingPlan([{"params": new, "lr": lr, "pretrained": False},
                             {"params": top, "lr": lr * LOWER_LR_FACTOR, "pretrained": True}],
                            frozen=list(model.body[: cut + 1]))

    @staticmethod
    def refusal_message(cut: int) -> str:
        """Where nothing above the cut remains to finetune."""
        return (f"lwft at cut {cut} finetunes nothing but the new head (that is the linear strategy); choose a "
                f"--cut below {cut}")
