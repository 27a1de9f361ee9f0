"""Backbone registry: one place to declare a backbone, its builder, its offline weights and its cut points."""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import timm
import torch

from ._base import Backbone, BackboneError, CutPoint, Family, Unit
from .ct import CtResNetFamily, astra_offline
from .densenet import DenseNetFamily
from .efficientnet import EfficientNetFamily
from .generic import GenericFamily
from .inflate import InflatedFamily, Inflation, inflated_name, parse_inflated
from .resnet import ResNetFamily
from .resnet3d import ResNet3dFamily, no_pretrained
from .smp import SmpResNetFamily, SmpTimmEfficientNetFamily
from .video import VideoResNetFamily, kinetics_weights
from .weights import MIN_COVERAGE, download_pretrained, efficientnet_lite0_offline, load_weights, read_weights

__all__ = ["Backbone", "BackboneError", "CutPoint", "Family", "Unit", "available", "load_backbone", "cut_points",
           "inflated_name", "input_side", "register", "resolve_weights", "served_tasks", "source_layout",
           "spatial_dims_of"]


@dataclass(frozen=True)
class _Entry:
    family: Family
    offline: Callable[[], dict[str, torch.Tensor]] | None = None


_REGISTRY: dict[str, _Entry] = {}


def register(name: str, family: Family, offline: Callable[[], dict[str, torch.Tensor]] | None = None) -> None:
    """Declare a backbone by its timm name; ``offline`` supplies pretrained weights without network."""
    _REGISTRY[name] = _Entry(family, offline)


for _name in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152"):
    register(_name, ResNetFamily())
for _name in ("densenet121", "densenet169", "densenet201"):
    register(_name, DenseNetFamily())
register("efficientnet_b0", EfficientNetFamily())
register("efficientnet_lite0", EfficientNetFamily(), offline=efficientnet_lite0_offline)
for _name, _source in (("resnet18_3d", "resnet18"), ("resnet50_3d", "resnet50"), ("resnext101_3d", "resnext101_32x4d")):
    register(_name, ResNet3dFamily(_source), offline=no_pretrained(_name))
for _name in ("r3d_18", "r2plus1d_18"):
    register(_name, VideoResNetFamily(), offline=kinetics_weights(_name))
register("ct_resnet152_3d", CtResNetFamily(), offline=astra_offline)
# The encoders of the segmentation U-Nets.
for _name in ("resnet18", "resnet34", "resnet50"):
    register(f"unet_{_name}", SmpResNetFamily(_name))
for _name in ("efficientnet_b0", "mobilenetv2_100"):
    register(f"unet_{_name}", SmpTimmEfficientNetFamily(_name))
register("unet_efficientnet_lite0", SmpTimmEfficientNetFamily("efficientnet_lite0"), offline=efficientnet_lite0_offline)


def available(spatial_dims: int | None = None, task: str | None = None) -> list[str]:
    """Registered backbone names, those of ``spatial_dims`` (2: images, 3: volumes) and serving ``task`` where
    given."""
    return sorted(n for n, e in _REGISTRY.items()
                  if spatial_dims in (None, e.family.spatial_dims) and task in (None, *e.family.tasks))


def served_tasks(name: str) -> tuple[str, ...]:
    """The tasks backbone ``name`` serves (its family's declaration), its default first; nothing is built."""
    return _entry(name).family.tasks


def _entry(name: str) -> _Entry:
    """The registered entry of ``name``; ``NAME@3d[:D]`` inflates the 2D backbone NAME to 3D (kernel depth D,
    default 3); any other timm model is derived generically (or refused then)."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    inflated = parse_inflated(name)
    if inflated is not None:
        source, depth = inflated
        base = _entry(source)
        if base.family.spatial_dims != 2:
            raise BackboneError(f"{source} is already 3D; --inflate applies to 2D backbones")
        return _Entry(InflatedFamily(base.family, source, Inflation(depth)), base.offline)
    if timm.is_model(name):
        return _Entry(GenericFamily())
    candidates = available() + [n for n in timm.list_models() if n not in _REGISTRY]
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise BackboneError(f"unknown backbone {name!r}.{hint} Known backbones: {', '.join(available())}, "
                        "or any timm CNN (timm.list_models()) that can be cut as a chain of its blocks")


def load_backbone(name: str, weights: str | Path = "none", min_coverage: float = MIN_COVERAGE) -> Backbone:
    """The backbone ``name`` as a chain of units.

    Names that are not registered but known to timm are derived by :class:`GenericFamily`; ``NAME@3d`` is the
    2D backbone NAME inflated to 3D (see :mod:`.inflate`), its 2D weights loaded before inflation.
    ``weights``: ``"none"`` (random init, the same for every call), ``"pretrained"`` (offline package where one
    exists, else the timm model hub), a ``.safetensors``/``.pth`` file, or a source checkpoint directory
    written by ``ttl pretrain``. A file is matched to the backbone by key mapping (prefix stripping, known
    layouts, shape checks); where that was needed, its report is printed on stderr, and a file that covers
    less than ``min_coverage`` of the units (or whose tensors are used less than that) is refused.
    ``unet_<encoder>`` names are the smp encoders of the segmentation U-Nets (:mod:`.smp`).
    """
    entry = _entry(name)
    family, source = entry.family, entry.family.weights_name(name)
    weights = str(weights)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        if weights == "pretrained" and entry.offline is None:
            model = download_pretrained(family.create, source)
        else:
            model = family.create(name, pretrained=False)
    if weights == "pretrained" and entry.offline is not None:
        load_weights(family.weight_target(model), family.weight_units(model), family.adapt_state(entry.offline()),
                     f"offline package for {source}", 1.0)
    elif weights not in ("none", "pretrained"):
        report = load_weights(family.weight_target(model), family.weight_units(model),
                              family.adapt_state(read_weights(weights, source)), weights, min_coverage)
        if not report.exact:
            print(report.text(), file=sys.stderr)
    units, neck = family.decompose(model)
    mean, std = family.preprocessing(model)
    return Backbone(name=name, family=family, units=units, neck=neck, spatial_dims=family.spatial_dims,
                    in_chans=family.in_chans, mean=mean, std=std, weights=weights)


def source_layout(name: str, units_state: dict[str, torch.Tensor],
                  neck_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The tensors of a chain of units (keys ``k.<param>``, k = unit index) and neck of backbone ``name``,
    renamed to its timm layout (classifier aside): what a weights file for ``name`` holds."""
    from .weights import CLASSIFIER

    entry = _entry(name)
    model = entry.family.create(name, pretrained=False)
    units, neck = entry.family.decompose(model)
    torch.nn.Sequential(*(u.module for u in units)).load_state_dict(units_state)
    if neck is not None:
        neck.load_state_dict(neck_state)
    return {k: v.detach().clone().contiguous() for k, v in model.state_dict().items() if not CLASSIFIER.match(k)}


def spatial_dims_of(name: str) -> int:
    """2 for image backbones (and the U-Net encoders), 3 for volume backbones; no model is built."""
    return _entry(name).family.spatial_dims


def input_side(name: str, image_size: int) -> str:
    """The input size of backbone ``name`` in words: ``224²`` for images, ``32³`` for volumes."""
    return f"{image_size}{'³' if spatial_dims_of(name) == 3 else '²'}"


def cut_points(name: str) -> list[CutPoint]:
    """The cut points of backbone ``name`` (no weights loaded)."""
    return load_backbone(name).cut_points


def resolve_weights(backbone: str, weights: str) -> tuple[str, str | None]:
    """``auto``: ``pretrained`` where this machine can have the backbone's pretrained weights (offline package
    or model hub), else ``none``; any other value as given. Returns the weights and, when ``auto`` fell back
    to random init, why."""
    if weights != "auto":
        return weights, None
    try:
        load_backbone(backbone, "pretrained")
    except BackboneError as err:
        return "none", str(err)
    return "pretrained", None
