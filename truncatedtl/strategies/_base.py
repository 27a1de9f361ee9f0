"""What a transfer-learning strategy is: how it builds a network from a backbone, and how it trains it."""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

from ..backbones import Backbone
from ..surgery import Network, attach_head


@dataclass(frozen=True)
class HeadSpec:
    """The new head: classes, pooling, optional hidden layer, and the input it will see."""

    num_classes: int
    image_size: int = 224
    pool: bool = True
    hidden: int = 0


@dataclass
class TrainingPlan:
    """What the training loop needs from a strategy: optimizer parameter groups (each with its ``lr``) and
    the modules that stay frozen (no gradient, kept in eval mode so BN statistics do not move)."""

    param_groups: list[dict]
    frozen: list[nn.Module] = field(default_factory=list)

    def freeze(self) -> None:
        for module in self.frozen:
            module.requires_grad_(False)
            module.eval()

    def on_train_mode(self) -> None:
        """Called by the loop after ``model.train()``: frozen parts go back to eval mode."""
        for module in self.frozen:
            module.eval()


class Strategy:
    """A registered strategy. ``uses_cut`` says whether the cut point changes what is built or trained."""

    name: str = ""
    uses_cut: bool = True

    def resolve_cut(self, backbone: Backbone, cut: int | None) -> int:
        """The cut point this strategy trains at: the full network when it does not use one."""
        if not self.uses_cut:
            return backbone.last_cut
        if cut is None:
            raise ValueError(f"strategy {self.name} needs a cut point (--cut K, 0..{backbone.last_cut})")
        return backbone.check_cut(cut)

    def cut_range(self, backbone: Backbone) -> list[int]:
        """The cut points this strategy can train at on ``backbone`` (what a search may try)."""
        return [p.index for p in backbone.cut_points] if self.uses_cut else [backbone.last_cut]

    def build(self, backbone: Backbone, cut: int, head: HeadSpec) -> Network:
        raise NotImplementedError

    def plan(self, model: nn.Module, lr: float) -> TrainingPlan:
        """Default: everything trained at one learning rate."""
        return TrainingPlan(param_groups(model, lr))


def param_groups(model: nn.Module, lr: float, select=lambda name: True) -> list[dict]:
    """The trainable parameters ``select`` accepts (by name), at ``lr``, in two groups: ``pretrained`` (weights
    from the backbone) and fresh (``model.fresh``), so that a recipe can treat them apart. A DDP/DataParallel
    wrapper is looked through."""
    model = getattr(model, "module", model)
    fresh = tuple(f"{name}." for name in model.fresh)
    groups: dict[bool, list] = {True: [], False: []}
    for name, param in model.named_parameters():
        if param.requires_grad and select(name):
            groups[not name.startswith(fresh)].append(param)
    return [{"params": params, "lr": lr, "pretrained": pretrained} for pretrained, params in groups.items() if params]


def full_network(backbone: Backbone, head: HeadSpec) -> Network:
    """Every pretrained unit, the neck and a new head: the model FTL, linear and LWFT train."""
    body, neck = backbone.full_body()
    return _with_head(backbone, body, neck, backbone.neck_channels(), head)


def _with_head(backbone: Backbone, body: nn.Sequential, neck: nn.Module | None, channels: int,
               head: HeadSpec, fresh: tuple[str, ...] = ("head",)) -> Network:
    input_shape = backbone.input_shape(head.image_size)
    return attach_head(body, neck, channels, head.num_classes, pool=head.pool, spatial_dims=backbone.spatial_dims,
                       input_shape=input_shape, hidden=head.hidden, fresh=fresh)
