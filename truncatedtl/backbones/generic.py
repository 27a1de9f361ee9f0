"""Any other timm CNN: its chain of units derived from the model itself and checked against what the model
really does, or refused with the reason.

The chain starts from the model's top-level children up to its classifier part. A module that holds several
of timm's layer groups (``group_matcher``: one group per residual/MBConv block) is opened into its children
where running them one after another gives exactly its output (nn.Sequential, ConvNeXt and RegNet stages …).
Each layer group becomes one unit; parameter-free modules (pooling, activations) join the unit before them, so
every cut point keeps more parameters than the one below. The coarse groups are the blocks, the first one
the stem. The last ``feature_info`` map ends the last unit; what follows it in ``forward_features`` is the
neck. The chain is accepted only if every cut point gives the channels and stride it declares and the chain
plus neck equals ``forward_features``.
"""

from __future__ import annotations

import math

import torch
from timm.models._manipulate import group_parameters
from torch import nn

from ._base import BackboneError, Family, Unit, _declare_cut_points, out_channels

# Top-level children of timm models that belong to the classifier part (forward_head), never to the features.
_HEAD = {"global_pool", "head", "head_drop", "flatten", "fc_norm", "pre_logits", "classifier", "fc", "head_dist",
         "last_linear"}
_PROBE_SIZE = 96  # divisible by every stride up to 32, large enough for unpadded (Inception-style) stems
_Piece = tuple[str, nn.Module]  # a module of the chain and its path in the source model


class GenericFamily(Family):
    """Timm CNNs without a hand-written family. TransFusion is not supported for them."""

    def decompose(self, model: nn.Module) -> tuple[list[Unit], nn.Module | None]:
        name = (getattr(model, "pretrained_cfg", None) or {}).get("architecture", type(model).__name__)
        was_training = model.training
        model.eval()
        try:
            with torch.no_grad():
                return _derive(model, name)
        finally:
            model.train(was_training)


def _refuse(name: str, why: str) -> BackboneError:
    return BackboneError(f"cannot cut {name}: {why}; register a Family for it in truncatedtl/backbones/")


def _derive(model: nn.Module, name: str) -> tuple[list[Unit], nn.Module | None]:
    feature_info = getattr(model, "feature_info", None)
    if not feature_info:
        raise _refuse(name, "timm declares no feature maps (feature_info) for it")
    own = [n for n, _ in model.named_parameters(recurse=False)]
    if own:
        raise _refuse(name, f"its forward is not a chain of its blocks (it uses parameters of its own: "
                            f"{', '.join(own)})")
    x = torch.randn(1, 3, *(_probe_size(model),) * 2)
    try:
        expected = model.forward_features(x.clone())
    except Exception as err:
        raise _refuse(name, f"its forward_features fails on a {x.shape[-1]} px input ({err})") from err
    if not isinstance(expected, torch.Tensor) or expected.dim() != 4:
        raise _refuse(name, "its features are not a convolutional (N, C, H, W) map")
    classifier = _classifier_root(model)
    top = []
    for child, module in model.named_children():
        if child in _HEAD or child == classifier:
            break
        top.append((child, module))
    try:
        layer_of = group_parameters(model, model.group_matcher(coarse=False), reverse=True)
        stage_of = group_parameters(model, model.group_matcher(coarse=True), reverse=True)
    except Exception as err:  # missing or not implemented: the model has no usable groups
        raise _refuse(name, "timm declares no layer groups (group_matcher) for it") from err
    outputs = _run(top, x)
    if not outputs:
        raise _refuse(name, "its forward is not a chain of its blocks (its modules cannot run one after another)")
    pieces = [piece for (path, module), a, b in zip(top, [x, *outputs], outputs)
              for piece in _expand(path, module, a, b, layer_of)]
    last = feature_info[-1]["module"]
    inside = [i for i, (path, _) in enumerate(pieces) if _contains(path, last) or _contains(last, path)]
    if not inside:
        raise _refuse(name, f"its last feature map ({last}) is not in its chain of blocks")
    body, tail = pieces[: inside[-1] + 1], pieces[inside[-1] + 1:]
    units = _units(name, body, stage_of, layer_of)
    neck = nn.Sequential(*(m for _, m in tail)) if tail else None
    _check(name, units, neck, x, expected)
    return units, neck


def _probe_size(model: nn.Module) -> int:
    """A square input size the model accepts: its fixed size, else at least its minimum, a multiple of 32."""
    cfg = getattr(model, "pretrained_cfg", None) or {}
    if cfg.get("fixed_input_size"):
        return int(cfg["input_size"][-1])
    least = max(_PROBE_SIZE, int((cfg.get("min_input_size") or (0,))[-1]))
    return 32 * math.ceil(least / 32)


def _classifier_root(model: nn.Module) -> str:
    cfg = getattr(model, "pretrained_cfg", None) or {}
    classifier = cfg.get("classifier") or ""
    return (classifier[0] if isinstance(classifier, (list, tuple)) else classifier).split(".")[0]


def _contains(outer: str, inner: str) -> bool:
    return inner == outer or inner.startswith(outer + ".")


def _groups(path: str, module: nn.Module, group_of: dict[str, int]) -> set[int]:
    """The timm layer groups the parameters of ``module`` (at ``path`` in the model) belong to."""
    keys = (f"{path}.{p}" for p, _ in module.named_parameters())
    return {group_of[k] for k in keys if k in group_of}


def _expand(path: str, module: nn.Module, x: torch.Tensor, y: torch.Tensor, group_of: dict[str, int]) -> list[_Piece]:
    """``module`` (which maps ``x`` to ``y``) as pieces of the chain: opened into its children where it holds
    several layer groups and running its children in order gives exactly ``y``; identities left out."""
    children = [(f"{path}.{n}", c) for n, c in module.named_children()]
    if len(_groups(path, module, group_of)) > 1:
        outputs = _run(children, x)
        if outputs and torch.equal(outputs[-1], y):
            return [piece for (p, c), a, b in zip(children, [x, *outputs], outputs)
                    for piece in _expand(p, c, a, b, group_of)]
    return [] if isinstance(module, nn.Identity) else [(path, module)]


def _run(pieces: list[_Piece], x: torch.Tensor) -> list[torch.Tensor]:
    """The output of each of ``pieces`` run one after another from ``x``; empty where they cannot run so."""
    outputs = []
    try:
        for _, piece in pieces:
            outputs.append(piece(x.clone()))
            x = outputs[-1]
    except Exception:  # noqa: BLE001 - pieces that cannot run in order are not a chain
        return []
    return outputs if all(isinstance(o, torch.Tensor) for o in outputs) else []


def _units(name: str, pieces: list[_Piece], stage_of: dict[str, int], layer_of: dict[str, int]) -> list[Unit]:
    """One unit per layer group, the stem (the first stage group) as one unit; stage groups are the blocks."""
    keys, key = [], None
    for path, module in pieces:
        stages, layers = _groups(path, module, stage_of), _groups(path, module, layer_of)
        key = (max(stages), max(layers)) if layers else key  # a parameter-free piece joins the one before it
        keys.append(key)
    first = next((k for k in keys if k is not None), None)
    if first is None:
        raise _refuse(name, "its blocks hold no parameters")
    keys = [first if k is None else k for k in keys]
    if keys != sorted(keys):
        raise _refuse(name, "its layer groups (group_matcher) are not in the order of its forward")
    blocks = {stage: b for b, stage in enumerate(sorted({stage for stage, _ in keys}))}
    chain: list[tuple[list[str], int, list[nn.Module]]] = []
    for (path, module), (stage, layer), prev in zip(pieces, keys, [None, *keys]):
        if prev is not None and (stage == first[0] or (stage, layer) == prev):
            chain[-1][0].append(path)
            chain[-1][2].append(module)
        else:
            chain.append(([path], blocks[stage], [module]))
    chain[0] = (["stem"], 0, chain[0][2])
    units = [Unit("+".join(paths), block, nn.Sequential(*modules) if not block or len(modules) > 1 else modules[0])
             for paths, block, modules in chain]
    if len(units) < 2:
        raise _refuse(name, "it has no cut point above its stem")
    return units


def _check(name: str, units: list[Unit], neck: nn.Module | None, x: torch.Tensor, expected: torch.Tensor) -> None:
    """Every cut point gives the channels and stride it declares; the chain plus neck is forward_features."""
    try:
        points = _declare_cut_points(units)
        neck_channels = out_channels(neck) if neck is not None else points[-1].channels
    except BackboneError as err:
        raise _refuse(name, str(err)) from err
    y = x.clone()
    for unit, point in zip(units, points):
        y = unit.module(y)
        if y.dim() != 4 or y.shape[1] != point.channels or x.shape[-1] // y.shape[-1] != point.stride:
            raise _refuse(name, f"cut point {point.index} ({point.name}) gives features of shape {tuple(y.shape[1:])} "
                                f"from a {x.shape[-1]} px input, not {point.channels} channels at stride {point.stride} "
                                "as its modules declare")
    if neck is not None:
        y = neck(y)
    if y.shape != expected.shape or not torch.allclose(y, expected, rtol=1e-4, atol=1e-5):
        raise _refuse(name, "its forward is not a chain of its blocks (the derived chain's output differs from "
                            "forward_features)")
    if neck_channels != y.shape[1]:
        raise _refuse(name, f"its neck gives {y.shape[1]} channels, not the {neck_channels} its modules declare")
