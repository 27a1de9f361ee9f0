"""What a transfer-learning strategy is: which pretrained units it keeps (and rebuilds), and how it trains them.

A strategy serves every task: it gives the :class:`Body` a task puts its head (or decoder) on, and the
:class:`TrainingPlan` over a network that exposes ``body`` (the units, stem first), ``neck`` (or None) and
``fresh`` (names of its parts with new weights: the task's head, and what the strategy rebuilt)."""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

from ..backbones import Backbone


@dataclass
class Body:
    """The pretrained part a strategy keeps: ``units`` (stem first), an optional ``neck``, the ``channels`` they
    end with, ``cut`` the last backbone cut point kept, and ``fresh``: the names (``body.i``, ``neck``) of the
    parts rebuilt with new weights."""

    units: nn.Sequential
    neck: nn.Module | None
    channels: int
    cut: int
    fresh: tuple[str, ...] = ()


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
        """The cut point this strategy trains at (the full network when it uses none): the one place a cut is
        resolved. Range checks are :meth:`Backbone.check_cut`'s; a cut outside :meth:`cut_range` is refused."""
        if not self.uses_cut:
            return backbone.last_cut
        if cut is None:
            raise ValueError(f"strategy {self.name} needs a cut point (--cut K, 0..{backbone.last_cut}; block "
                             f"boundaries of {backbone.name}: {', '.join(map(str, backbone.block_ends))})")
        backbone.check_cut(cut)
        if cut not in self.cut_range(backbone):
            raise ValueError(self.refusal(backbone, cut))
        return cut

    def refusal(self, backbone: Backbone, cut: int) -> str:
        """Why a cut in the backbone's range is none this strategy can train at."""
        return f"strategy {self.name} cannot train at cut {cut}"

    def cut_range(self, backbone: Backbone) -> list[int]:
        """The cut points this strategy can train at on ``backbone`` (what a search may try)."""
        return [p.index for p in backbone.cut_points] if self.uses_cut else [backbone.last_cut]

    def body(self, backbone: Backbone, cut: int) -> Body:
        """Default: every pretrained unit and the neck."""
        units, neck = backbone.full_body()
        return Body(units, neck, backbone.neck_channels(), backbone.last_cut)

    def plan(self, model: nn.Module, lr: float, cut: int) -> TrainingPlan:
        """Default: everything trained at one learning rate."""
        return TrainingPlan(param_groups(model, lr))


def fresh_prefixes(model: nn.Module) -> tuple[str, ...]:
    return tuple(f"{name}." for name in model.fresh)


def param_groups(model: nn.Module, lr: float, select=lambda name: True) -> list[dict]:
    """The trainable parameters ``select`` accepts (by name), at ``lr``, in two groups: ``pretrained`` (weights
    from the backbone) and fresh (``model.fresh``), so that a recipe can treat them apart. A DDP/DataParallel
    wrapper is looked through."""
    model = getattr(model, "module", model)
    fresh = fresh_prefixes(model)
    groups: dict[bool, list] = {True: [], False: []}
    for name, param in model.named_parameters():
        if param.requires_grad and select(name):
            groups[not name.startswith(fresh)].append(param)
    return [{"params": params, "lr": lr, "pretrained": pretrained} for pretrained, params in groups.items() if params]
