"""Cutting a backbone: the compact network (kept units + new head) and the heads themselves."""

from __future__ import annotations

import math

import torch
from torch import nn


class Head(nn.Module):
    """New, randomly initialised classifier on a feature map.

    ``pool=True``: adaptive average pool to 1 per spatial axis, then linear (the default).
    ``pool=False``: flatten the whole feature map (``feature_shape`` = its spatial size) into the linear
    layer, as in the paper's pooling ablation. ``hidden`` > 0 inserts one ReLU hidden layer (an MLP head).
    """

    def __init__(self, in_channels: int, num_classes: int, pool: bool = True, spatial_dims: int = 2,
                 feature_shape: tuple[int, ...] | None = None, hidden: int = 0) -> None:
        super().__init__()
        if pool:
            self.pool = (nn.AdaptiveAvgPool2d(1) if spatial_dims == 2 else nn.AdaptiveAvgPool3d(1))
            features = in_channels
        else:
            if feature_shape is None:
                raise ValueError("a head without pooling needs the feature map's spatial size")
            self.pool = None
            features = in_channels * math.prod(feature_shape)
        layers: list[nn.Module] = [nn.Flatten(1)]
        if hidden:
            layers += [nn.Linear(features, hidden), nn.ReLU(inplace=True)]
            features = hidden
        layers.append(nn.Linear(features, num_classes))
        self.classifier = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pool is not None:
            x = self.pool(x)
        return self.classifier(x)


class Network(nn.Module):
    """``body`` (stem + units, one per cut point, in order) → optional ``neck`` → ``head``.

    ``body[k]`` produces the features at cut point k, so hooks on it capture them. What a strategy leaves
    out above the cut is simply absent: not in ``parameters()``, not in the state dict. ``fresh``: names of
    the parts with new (randomly initialised) weights; the rest comes from the backbone.
    """

    def __init__(self, body: nn.Sequential, head: Head, neck: nn.Module | None = None,
                 fresh: tuple[str, ...] = ("head",)) -> None:
        super().__init__()
        self.body = body
        self.neck = neck
        self.head = head
        self.fresh = fresh

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.body(x)
        return self.neck(x) if self.neck is not None else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))


def feature_shape(module: nn.Module, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Spatial size of ``module``'s output for one input of ``input_shape`` (channels, *spatial)."""
    was_training = module.training
    module.eval()
    with torch.no_grad():
        out = module(torch.zeros(1, *input_shape))
    module.train(was_training)
    return tuple(out.shape[2:])


def attach_head(body: nn.Sequential, neck: nn.Module | None, channels: int, num_classes: int, *,
                pool: bool, spatial_dims: int, input_shape: tuple[int, ...], hidden: int = 0,
                fresh: tuple[str, ...] = ("head",)) -> Network:
    """Put a new head on ``body`` (+ ``neck``); without pooling the head's size follows the feature map."""
    shape = None
    if not pool:
        shape = feature_shape(nn.Sequential(body, neck) if neck is not None else body, input_shape)
    head = Head(channels, num_classes, pool=pool, spatial_dims=spatial_dims, feature_shape=shape, hidden=hidden)
    return Network(body, head, neck, fresh)
