"""EfficientNets (timm ``efficientnet_*``, ``tf_efficientnet_*``, ``mobilenetv2_*``): stem + every MBConv
block; the stages are the blocks. The neck (conv_head + BN) belongs to the full model only."""

from __future__ import annotations

from functools import partial

from timm.layers import Conv2dSame, create_conv2d
from timm.models._efficientnet_blocks import DepthwiseSeparableConv, InvertedResidual, SqueezeExcite
from timm.models._efficientnet_builder import efficientnet_init_weights
from torch import nn

from ._base import Backbone, BackboneError, Family, Unit, out_channels


class EfficientNetFamily(Family):
    def decompose(self, model: nn.Module) -> tuple[list[Unit], nn.Module | None]:
        units = [Unit("stem", 0, nn.Sequential(model.conv_stem, model.bn1))]
        for s, stage in enumerate(model.blocks):
            units += [Unit(f"blocks.{s}.{i}", s + 1, block) for i, block in enumerate(stage)]
        return units, nn.Sequential(model.conv_head, model.bn2)

    def halve(self, backbone: Backbone, cut: int) -> tuple[list[nn.Module], nn.Module | None]:
        """Every MBConv block above ``cut`` rebuilt with half its expanded channels (the 1x1 expansion, the
        depthwise conv and SE's reduced width) and half its output channels; kernel, stride, activation and SE
        kind are kept. A depthwise-separable block has no expansion: its depthwise conv works on its input,
        so only its output halves. The first half-width block after the cut receives the kept block's
        full-width output, so it has no skip connection (MBConv adds a skip only where widths match).
        The neck's conv_head takes the half-width input and keeps its output width; its BN is fresh.
        Fresh weights, timm's EfficientNet init."""
        channels = backbone.cut_points[cut].channels
        units = []
        for block in (u.module for u in backbone.units[cut + 1:]):
            units.append(_half_block(block, channels))
            channels = out_channels(units[-1])
        conv_head, bn = backbone.neck
        neck = nn.Sequential(
            create_conv2d(channels, conv_head.out_channels, conv_head.kernel_size, padding=_padding(conv_head)),
            type(bn)(bn.num_features, act_layer=type(bn.act)))
        efficientnet_init_weights(nn.ModuleList([*units, neck]))
        return units, neck


def _padding(conv: nn.Conv2d) -> str:
    """timm's padding name for ``conv``: TF 'same' padding or the symmetric default."""
    return "same" if isinstance(conv, Conv2dSame) else ""


def _half_block(block: nn.Module, in_channels: int) -> nn.Module:
    """A fresh ``block`` at half width (see :meth:`EfficientNetFamily.halve`) fed ``in_channels``."""
    if not isinstance(block, (DepthwiseSeparableConv, InvertedResidual)) or block.conv_s2d is not None:
        raise BackboneError(f"TransFusion does not support {type(block).__name__} blocks")
    dw = block.conv_dw
    common = {"dw_kernel_size": dw.kernel_size[0], "stride": dw.stride[0], "dilation": dw.dilation[0],
              "pad_type": _padding(dw), "act_layer": type(block.bn1.act), "se_layer": _half_se(block.se)}
    out = block.conv_pw.out_channels if isinstance(block, DepthwiseSeparableConv) else block.conv_pwl.out_channels
    if isinstance(block, DepthwiseSeparableConv):
        return DepthwiseSeparableConv(in_channels, out // 2, **common)
    expanded = block.conv_pw.out_channels // 2
    return InvertedResidual(in_channels, out // 2, exp_ratio=expanded / in_channels, **common)


def _half_se(se: nn.Module):
    """A squeeze-excitation layer type with half the reduced width of ``se`` (None where there is none)."""
    if isinstance(se, nn.Identity):
        return None
    return partial(SqueezeExcite, rd_channels=max(1, se.conv_reduce.out_channels // 2),
                   force_act_layer=type(se.act1), gate_layer=type(se.gate))
