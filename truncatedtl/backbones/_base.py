"""What a backbone is: a pretrained network seen as a chain of units, with the cut points between them."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

from torch import nn

_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_POOLS = (nn.MaxPool2d, nn.AvgPool2d, nn.MaxPool3d, nn.AvgPool3d)


class BackboneError(ValueError):
    """A backbone name, cut point or weight file the product cannot use; the message says why."""


@dataclass(frozen=True)
class CutPoint:
    """A place where the network can be cut without cutting a skip connection.

    ``index`` is k, the number of units kept above the stem (k = 0 keeps the stem only);
    ``name`` the module path in the source model; ``block`` the stage the unit belongs to (0 = stem);
    ``block_end`` whether it closes its stage; ``channels`` and ``stride`` describe its output. ``stride`` is
    one number where every spatial axis is reduced alike, else one per axis (depth first for volumes).
    """

    index: int
    name: str
    block: int
    block_end: bool
    channels: int
    stride: int | tuple[int, ...]


@dataclass
class Unit:
    """One link of the chain: a module whose output is the feature map at a cut point."""

    name: str
    block: int
    module: nn.Module


@dataclass
class Backbone:
    """A pretrained network decomposed into ``units`` (stem first) and an optional ``neck``.

    The neck is what lies after the last unit and before the classifier (EfficientNet's conv_head + BN,
    DenseNet's final norm): it belongs to the full model only.
    """

    name: str
    family: Family
    units: list[Unit]
    neck: nn.Module | None
    spatial_dims: int = 2
    in_chans: int = 3
    mean: tuple[float, ...] = (0.485, 0.456, 0.406)
    std: tuple[float, ...] = (0.229, 0.224, 0.225)
    weights: str = "none"
    cut_points: list[CutPoint] = field(init=False)

    def __post_init__(self) -> None:
        self.cut_points = _declare_cut_points(self.units, self.spatial_dims)

    @property
    def last_cut(self) -> int:
        return len(self.units) - 1

    @property
    def block_ends(self) -> list[int]:
        return [p.index for p in self.cut_points if p.block_end]

    def check_cut(self, cut: int) -> int:
        if not isinstance(cut, int) or not 0 <= cut <= self.last_cut:
            raise BackboneError(
                f"cut point {cut} is out of range for {self.name}: valid cut points are 0..{self.last_cut} "
                f"(block boundaries at {', '.join(map(str, self.block_ends))})"
            )
        return cut

    def body(self, cut: int) -> nn.Sequential:
        """A fresh copy of the stem and the first ``cut`` units; nothing above the cut exists in it."""
        self.check_cut(cut)
        return nn.Sequential(*copy.deepcopy([u.module for u in self.units[: cut + 1]]))

    def full_body(self) -> tuple[nn.Sequential, nn.Module | None]:
        """A fresh copy of every unit and the neck: the whole pretrained network without classifier."""
        return self.body(self.last_cut), copy.deepcopy(self.neck)

    def input_shape(self, size: int | tuple[int, ...]) -> tuple[int, ...]:
        """Shape of one input, ``(in_chans, *spatial)``: a side ``size`` repeated over the spatial axes, or one
        side per axis."""
        sides = (size,) * self.spatial_dims if isinstance(size, int) else tuple(size)
        if len(sides) != self.spatial_dims:
            raise ValueError(f"{self.name} is a {self.spatial_dims}D backbone; an input size {size} does not fit")
        return (self.in_chans, *sides)

    def neck_channels(self) -> int:
        if self.neck is None:
            return self.cut_points[-1].channels
        return out_channels(self.neck)


class Family:
    """How one model family becomes a chain of units; subclasses register their timm names.

    ``spatial_dims`` (2: images, 3: volumes) and ``in_chans`` describe the input the family's networks take;
    ``tasks`` names the tasks (:mod:`truncatedtl.tasks`) its backbones serve, the first being their default.
    """

    spatial_dims: int = 2
    in_chans: int = 3
    tasks: tuple[str, ...] = ("classification",)

    def create(self, name: str, pretrained: bool) -> nn.Module:
        import timm

        return timm.create_model(name, pretrained=pretrained)

    def weights_name(self, name: str) -> str:
        """The name the weights of backbone ``name`` are known under (hub, offline package, source checkpoint)."""
        return name

    def preprocessing(self, model: nn.Module) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """Per-channel mean and std of the inputs ``model`` was pretrained on (timm's pretrained config)."""
        cfg = getattr(model, "pretrained_cfg", {}) or {}
        return tuple(cfg.get("mean", (0.485, 0.456, 0.406))), tuple(cfg.get("std", (0.229, 0.224, 0.225)))

    def weight_target(self, model: nn.Module) -> nn.Module:
        """The module whose state-dict keys a weights file for this family names."""
        return model

    def adapt_state(self, state: dict) -> dict:
        """A weights file's tensors, less those the family has no place for."""
        return state

    def decompose(self, model: nn.Module) -> tuple[list[Unit], nn.Module | None]:
        raise NotImplementedError

    def weight_units(self, model: nn.Module) -> list[nn.Module]:
        """The submodules of ``model`` that weights are loaded into, one per unit (and the neck): what a weight
        file's coverage is counted over. Loading happens before :meth:`decompose`, which may rebuild them."""
        units, neck = self.decompose(model)
        return [u.module for u in units] + ([neck] if neck is not None else [])

    def halve(self, backbone: Backbone, cut: int) -> tuple[list[nn.Module], nn.Module | None]:
        """Units above ``cut`` (and the neck) rebuilt at half width, randomly initialised (TransFusion)."""
        raise BackboneError(f"TransFusion (half-width top layers) is not supported for {backbone.name}")


def out_channels(module: nn.Module) -> int:
    """Output channels of a unit: its declared ``out_channels`` or that of its last convolution / norm."""
    declared = getattr(module, "out_channels", None)
    if isinstance(declared, int):
        return declared
    last = None
    for m in module.modules():
        if isinstance(m, _CONVS):
            last = m.out_channels
        elif isinstance(m, nn.modules.batchnorm._BatchNorm) and last is None:
            last = m.num_features
    if last is None:
        raise BackboneError(f"cannot tell the output channels of {type(module).__name__}")
    return last


def _stride_of(m: nn.Module, dims: int) -> tuple[int, ...]:
    s = m.stride
    return tuple(int(v) for v in s) if isinstance(s, tuple) else (int(s),) * dims


def unit_stride(module: nn.Module, chain: bool, dims: int = 2) -> tuple[int, ...]:
    """Spatial reduction of a unit per axis: the product along a plain chain (stem), else the largest stride
    (a residual unit's main path and shortcut reduce alike)."""
    strides = [_stride_of(m, dims) for m in module.modules() if isinstance(m, _CONVS + _POOLS)]
    if not strides:
        return (1,) * dims
    combine = math.prod if chain else max
    return tuple(combine(axis) for axis in zip(*strides))


def _declare_cut_points(units: list[Unit], dims: int = 2) -> list[CutPoint]:
    points, stride = [], (1,) * dims
    for k, unit in enumerate(units):
        stride = tuple(a * b for a, b in zip(stride, unit_stride(unit.module, k == 0, dims)))
        nxt = units[k + 1].block if k + 1 < len(units) else None
        points.append(
            CutPoint(
                index=k,
                name=unit.name,
                block=unit.block,
                block_end=k > 0 and nxt != unit.block,
                channels=out_channels(unit.module),
                stride=stride[0] if len(set(stride)) == 1 else stride,
            )
        )
    return points
