"""The U-Net: encoder units up to a cut, smp's U-Net decoder rebuilt to the remaining depth, a 3x3 head.

Symmetric truncation: cutting the encoder below a resolution removes that resolution's encoder stages *and*
the decoder stages that would have consumed them; the decoder stages that remain have the widths they have in
the full U-Net. Nothing above the cut exists in the module (not in ``parameters()``, not in the state dict).
"""

from __future__ import annotations

import torch
from segmentation_models_pytorch.base import SegmentationHead
from segmentation_models_pytorch.base.initialization import initialize_decoder, initialize_head
from segmentation_models_pytorch.decoders.unet.decoder import UnetDecoder
from torch import nn

from ...backbones import Backbone, BackboneError

# smp's default decoder widths, deepest first: the stage that upsamples to stride 16 has 256 channels, ...,
# the one that upsamples to the input resolution 16.
DECODER_CHANNELS = (256, 128, 64, 32, 16)


class UNet(nn.Module):
    """``encoder`` units (stem first) → decoder fed by the input and the output of each unit in ``skips``
    (the last kept unit at each resolution) → ``head`` (``out_channels`` logit maps at the input's size).

    ``cut`` is the last encoder unit kept. To a strategy's plan the encoder is the ``body`` (no ``neck``), and the
    decoder and head are the ``fresh`` parts.
    """

    neck = None
    fresh = ("decoder", "head")

    def __init__(self, encoder: nn.Sequential, skips: list[int], decoder: UnetDecoder, head: SegmentationHead,
                 cut: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.head = head
        self.skips = skips
        self.cut = cut

    @property
    def body(self) -> nn.Sequential:
        return self.encoder

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The input and each skip feature map, finest first: what the decoder consumes."""
        features = [x]
        for k, unit in enumerate(self.encoder):
            x = unit(x)
            if k in self.skips:
                features.append(x)
        return features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) images → (N, out_channels, H, W) logits."""
        return self.head(self.decoder(self.features(x)))


def skip_units(backbone: Backbone, cut: int) -> list[int]:
    """Indices of the units, up to ``cut``, whose output is the last one at its resolution."""
    points = backbone.cut_points[: cut + 1]
    return [p.index for p, nxt in zip(points, points[1:] + [None]) if nxt is None or nxt.stride != p.stride]


def build_unet(backbone: Backbone, cut: int, out_channels: int, encoder: nn.Sequential | None = None) -> UNet:
    """A U-Net on ``encoder`` (default: a fresh copy of ``backbone``'s units 0..``cut``); decoder and head freshly
    initialised (smp's init, from the current torch seed)."""
    encoder = backbone.body(cut) if encoder is None else encoder
    skips = skip_units(backbone, cut)
    depth = len(skips)
    if depth > len(DECODER_CHANNELS):
        raise BackboneError(f"{backbone.name} has {depth} resolutions up to cut {cut}; the U-Net decoder has "
                            f"at most {len(DECODER_CHANNELS)}")
    channels = [backbone.in_chans] + [backbone.cut_points[k].channels for k in skips]
    widths = DECODER_CHANNELS[len(DECODER_CHANNELS) - depth:]
    decoder = UnetDecoder(encoder_channels=channels, decoder_channels=widths, n_blocks=depth)
    head = SegmentationHead(widths[-1], out_channels, kernel_size=3)
    initialize_decoder(decoder)
    initialize_head(head)
    return UNet(encoder, skips, decoder, head, cut)
