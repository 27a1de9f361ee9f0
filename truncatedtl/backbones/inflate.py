"""2D networks made 3D: every layer of a 2D module tree turned into its 3D counterpart.

I3D inflation (Carreira & Zisserman, 2017): a k×k kernel (k > 1) becomes a D×k×k kernel, the 2D weights
repeated over the D slices and divided by D; a 1×1 kernel stays pointwise (1×1×1). Strides, pools and padding
act alike on every axis (volumes are resampled to cubes), BN keeps its weights and statistics. Padded along
depth by repeating the edge slices, an inflated network maps a volume constant along depth to the 2D network's
feature map on one slice, at every depth, so its logits equal the 2D network's: ImageNet features in 3D.

The same conversion builds the 3D ResNets (kernels k×k×k, zero padding, fresh 3D weights) and the CT encoder.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from timm.layers import BatchNormAct2d
from timm.models._efficientnet_blocks import SqueezeExcite
from torch import nn

from ._base import Backbone, BackboneError, Family, Unit

SUFFIX = "@3d"


@dataclass(frozen=True)
class Inflation:
    """How 2D layers become 3D. ``depth``: kernel depth of every k×k kernel with k > 1 (None: k, an isotropic
    k×k×k kernel). ``replicate``: pad along depth by repeating edge slices (zero padding otherwise).
    ``inflate_weights``: 2D weights repeated over depth and divided by it (else 3D weights come later)."""

    depth: int | None = 3
    replicate: bool = True
    inflate_weights: bool = True

    def __post_init__(self) -> None:
        if self.depth is not None and (self.depth < 1 or self.depth % 2 == 0):
            raise BackboneError(f"inflation depth must be an odd number ≥ 1 (got {self.depth})")


class BatchNormAct3d(nn.BatchNorm3d):
    """BN + activation (+ drop) on volumes: the 3D counterpart of timm's BatchNormAct2d, same state keys."""

    def __init__(self, num_features: int, act_layer: type[nn.Module] = nn.Identity, eps: float = 1e-5,
                 momentum: float | None = 0.1) -> None:
        super().__init__(num_features, eps=eps, momentum=momentum)
        self.drop = nn.Identity()
        self.act = act_layer()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.drop(super().forward(x)))


class SqueezeExcite3d(nn.Module):
    """timm's EfficientNet squeeze-excitation on volumes: the squeeze averages over all three axes."""

    def __init__(self, se: SqueezeExcite) -> None:
        super().__init__()
        self.conv_reduce, self.act1, self.conv_expand, self.gate = se.conv_reduce, se.act1, se.conv_expand, se.gate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x_se = self.conv_expand(self.act1(self.conv_reduce(x.mean((2, 3, 4), keepdim=True))))
        return x * self.gate(x_se)


def to_3d(module: nn.Module, inflation: Inflation) -> nn.Module:
    """A 3D copy of ``module``: every 2D layer replaced (see the module docstring); 3D and dimension-free
    layers kept. A 2D layer of a kind not handled here is refused, naming it."""
    module = copy.deepcopy(module)
    converted = _convert(module, inflation, "")
    return converted if converted is not None else module


def _convert(module: nn.Module, inflation: Inflation, path: str) -> nn.Module | None:
    """The 3D replacement of ``module`` itself, or None after converting its children in place."""
    kind = type(module)
    if kind is nn.Conv2d:
        return _conv(module, inflation)
    if kind is nn.BatchNorm2d:
        return _batch_norm(module, nn.BatchNorm3d(module.num_features, module.eps, module.momentum))
    if kind is BatchNormAct2d:
        bn = _batch_norm(module, BatchNormAct3d(module.num_features, eps=module.eps, momentum=module.momentum))
        bn.act, bn.drop = module.act, module.drop
        return bn
    if kind is nn.MaxPool2d:
        return nn.MaxPool3d(module.kernel_size, module.stride, module.padding, module.dilation,
                            ceil_mode=module.ceil_mode)
    if kind is nn.AvgPool2d:
        return nn.AvgPool3d(module.kernel_size, module.stride, module.padding, module.ceil_mode,
                            module.count_include_pad, module.divisor_override)
    if kind is SqueezeExcite:
        module = SqueezeExcite3d(module)
    elif "2d" in kind.__name__.lower():
        raise BackboneError(f"cannot make {path or 'the network'} ({kind.__name__}) 3D: only Conv2d, BatchNorm2d, "
                            "max/avg pooling and timm's BatchNormAct2d and SqueezeExcite are inflated")
    for name, child in module.named_children():
        new = _convert(child, inflation, f"{path}.{name}" if path else name)
        if new is not None:
            setattr(module, name, new)
    return module if kind is SqueezeExcite else None


def _conv(conv: nn.Conv2d, inflation: Inflation) -> nn.Module:
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = conv.kernel_size, conv.stride, conv.padding, conv.dilation
    if isinstance(conv.padding, str) or sh != sw or conv.padding_mode != "zeros":
        raise BackboneError(f"cannot inflate {conv}: only square strides and explicit zero padding are supported")
    depth = 1 if max(kh, kw) == 1 else (inflation.depth or kh)
    pad = (depth - 1) // 2
    new = nn.Conv3d(conv.in_channels, conv.out_channels, (depth, kh, kw), stride=(sh, sh, sw),
                    padding=(0 if inflation.replicate else pad, ph, pw), dilation=(1, dh, dw), groups=conv.groups,
                    bias=conv.bias is not None)
    with torch.no_grad():
        if inflation.inflate_weights:
            new.weight.copy_(conv.weight.unsqueeze(2).expand_as(new.weight) / depth)
            if conv.bias is not None:
                new.bias.copy_(conv.bias)
    if inflation.replicate and pad:
        return nn.Sequential(nn.ReplicationPad3d((0, 0, 0, 0, pad, pad)), new)
    return new


def _batch_norm(bn: nn.BatchNorm2d, new: nn.BatchNorm3d) -> nn.BatchNorm3d:
    new.load_state_dict(bn.state_dict())
    new.train(bn.training)
    return new


def inflated_name(name: str, depth: int = 3) -> str:
    """The registry name of backbone ``name`` inflated to 3D with kernel depth ``depth``: ``NAME@3d`` (depth 3)
    or ``NAME@3d:D``."""
    return f"{name}{SUFFIX}" if depth == 3 else f"{name}{SUFFIX}:{depth}"


def parse_inflated(name: str) -> tuple[str, int] | None:
    """(2D name, depth) of an inflated backbone name, None for any other name."""
    base, sep, rest = name.partition(SUFFIX)
    if not sep or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
        return None
    return base, int(rest[1:]) if rest else 3


class InflatedFamily(Family):
    """A registered 2D family inflated to 3D: the 2D network is built (and its weights loaded) as usual, then
    its units and neck are inflated; cut points are the 2D ones."""

    spatial_dims = 3

    def __init__(self, base: Family, source: str, inflation: Inflation) -> None:
        self.base, self.source, self.inflation = base, source, inflation

    def weights_name(self, name: str) -> str:
        """The 2D source's: an inflated backbone loads 2D weights (hub, offline package, ``ttl pretrain`` folder)
        before inflating them."""
        return self.source

    def create(self, name: str, pretrained: bool) -> nn.Module:
        return self.base.create(self.source, pretrained)

    def weight_units(self, model: nn.Module) -> list[nn.Module]:
        """The 2D units: weights load into the 2D network, which :meth:`decompose` then inflates."""
        return self.base.weight_units(model)

    def decompose(self, model: nn.Module) -> tuple[list[Unit], nn.Module | None]:
        units, neck = self.base.decompose(model)
        return ([Unit(u.name, u.block, to_3d(u.module, self.inflation)) for u in units],
                None if neck is None else to_3d(neck, self.inflation))

    def halve(self, backbone: Backbone, cut: int) -> tuple[list[nn.Module], nn.Module | None]:
        """The 2D family's half-width units (fresh, initialised as in 2D), inflated like the rest. They are
        derived from the 2D architecture, built aside without touching the random stream that initialises them."""
        with torch.random.fork_rng():
            flat = Backbone(self.source, self.base, *self.base.decompose(self.base.create(self.source, False)))
        units, neck = self.base.halve(flat, cut)
        return [to_3d(u, self.inflation) for u in units], None if neck is None else to_3d(neck, self.inflation)
