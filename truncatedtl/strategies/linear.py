"""Fixed features: the whole pretrained network frozen (BN statistics too), only the new parts trained."""

from torch import nn

from ._base import Strategy, TrainingPlan, fresh_prefixes, param_groups


class LinearProbe(Strategy):
    name = "linear"
    uses_cut = False

    def plan(self, model: nn.Module, lr: float, cut: int) -> TrainingPlan:
        model = getattr(model, "module", model)
        frozen = [m for m in (model.body, model.neck) if m is not None]
        fresh = fresh_prefixes(model)
        return TrainingPlan(param_groups(model, lr, lambda name: name.startswith(fresh)), frozen=frozen)
