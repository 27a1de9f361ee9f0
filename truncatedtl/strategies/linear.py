"""Fixed features: the whole pretrained network frozen (BN statistics too), only the new head trained."""

from ..backbones import Backbone
from ..surgery import Network
from ._base import HeadSpec, Strategy, TrainingPlan, full_network, param_groups


class LinearProbe(Strategy):
    name = "linear"
    uses_cut = False

    def build(self, backbone: Backbone, cut: int, head: HeadSpec) -> Network:
        return full_network(backbone, head)

    def plan(self, model: Network, lr: float) -> TrainingPlan:
        frozen = [m for m in (model.body, model.neck) if m is not None]
        return TrainingPlan(param_groups(model, lr, lambda name: name.startswith("head.")), frozen=frozen)
