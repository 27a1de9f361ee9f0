"""Class-activation maps of a trained network, through MONAI's ``monai.visualize`` (Grad-CAM, Grad-CAM++,
occlusion sensitivity; 2D and 3D alike), and how far two maps agree.

Every map is non-negative, at the input's spatial size (MONAI upsamples Grad-CAM linearly), and larger where
the evidence for the explained score lies."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

METHODS = ("gradcam", "gradcam++", "occlusion")
# The class score of a segmentation network: the mean foreground probability over the image.
MEAN_FOREGROUND = "mean-foreground"
# Share of the highest-valued pixels (voxels) that the overlap of two maps is measured on.
TOP_SHARE = 0.10


class ForegroundScore(nn.Module):
    """A segmentation network seen as a classifier with one output: the mean over pixels of the foreground
    probability (sigmoid of a single logit map; else 1 - the softmax probability of class 0)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.model(x)
        foreground = torch.sigmoid(logits[:, 0]) if logits.shape[1] == 1 else 1 - torch.softmax(logits, 1)[:, 0]
        return foreground.flatten(1).mean(1, keepdim=True)


def default_layer(model: nn.Module) -> str:
    """The last kept unit: ``body.<k>`` of a classification network, ``encoder.<k>`` of a U-Net (through a
    :class:`ForegroundScore`, ``model.encoder.<k>``)."""
    prefix = ""
    if isinstance(model, ForegroundScore):
        model, prefix = model.model, "model."
    for part in ("encoder", "body"):  # a U-Net's ``body`` is its encoder under another name
        units = getattr(model, part, None)
        if isinstance(units, nn.Sequential):
            return f"{prefix}{part}.{len(units) - 1}"
    raise ValueError(f"cannot tell the last kept unit of a {type(model).__name__}; name one with --layer")


def check_layer(model: nn.Module, layer: str) -> str:
    """``layer`` if it names a module of ``model``; otherwise an error listing the units to choose from."""
    names = dict(model.named_modules())
    if layer not in names or layer == "":
        prefix = default_layer(model).rsplit(".", 1)[0]
        units = [n for n in names if n.startswith(prefix + ".") and n.count(".") == prefix.count(".") + 1]
        raise ValueError(f"--layer {layer!r} is not a module of this network; its units are "
                         f"{units[0]} .. {units[-1]} (any submodule name works, e.g. {units[-1]})")
    return layer


class Explainer:
    """Maps of one network for one method at one layer (the hooks are set once and reused for every input).

    ``activate`` turns outputs (N, K) into the probabilities occlusion measures (softmax, sigmoid, or the
    identity for a :class:`ForegroundScore`); ``occlusion_size``: side of the occluded patch in pixels."""

    def __init__(self, model: nn.Module, method: str, layer: str | None, activate: Callable,
                 occlusion_size: int) -> None:
        from monai.visualize import GradCAM, GradCAMpp, OcclusionSensitivity

        if method not in METHODS:
            raise ValueError(f"--method {method!r}: choose one of {', '.join(METHODS)}")
        self.model, self.method, self.activate = model.eval(), method, activate
        self.layer = check_layer(model, layer or default_layer(model)) if method != "occlusion" else None
        if method == "occlusion":
            self.engine = OcclusionSensitivity(model, mask_size=occlusion_size, n_batch=16, verbose=False,
                                               overlap=0.5, activate=activate)
        else:
            cam = GradCAM if method == "gradcam" else GradCAMpp
            # MONAI's default postprocessing flips the map (max to 0); maps are kept raw here, see :func:`scaled`
            self.engine = cam(model, target_layers=self.layer, postprocessing=lambda raw: raw)

    def __call__(self, x: torch.Tensor, target: int) -> np.ndarray:
        """The map (*spatial) of one input ``x`` (C, *spatial) for output ``target``."""
        x = x[None].float()
        if self.method == "occlusion":
            with torch.no_grad(), warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*non-tuple sequence for multidimensional indexing")
                base = self.activate(self.model(x))[0, target]
                occluded, _ = self.engine(x)
            raw = (base - occluded[0, target]).clamp(min=0)
        else:
            try:
                raw = self.engine(x, class_idx=target)[0, 0]
            finally:
                self._check_feature_map(x)
        return raw.detach().float().numpy()

    def _check_feature_map(self, x: torch.Tensor) -> None:
        acti = self.engine.nn_module.activations.get(self.layer)
        if acti is not None and acti.ndim != x.ndim:
            raise ValueError(f"--layer {self.layer} gives an output of shape {tuple(acti.shape)}, not a "
                             f"{x.ndim - 2}D feature map; choose a unit of the body (default: the last kept one)")


def scaled(saliency: np.ndarray) -> np.ndarray:
    """``saliency`` divided by its maximum (all zeros stay zeros): values in [0, 1]."""
    top = float(saliency.max()) if saliency.size else 0.0
    return saliency / top if top > 0 else np.zeros_like(saliency)


def top_indices(saliency: np.ndarray, share: float = TOP_SHARE) -> np.ndarray:
    """Flat indices of the ``ceil(share * size)`` highest values (ties broken by position, so equal maps give
    equal sets)."""
    k = max(1, math.ceil(share * saliency.size))
    return np.argsort(-saliency.ravel(), kind="stable")[:k]


def agreement(a: np.ndarray, b: np.ndarray, share: float = TOP_SHARE) -> tuple[float, float]:
    """Pearson correlation of two maps of equal shape (NaN where either is constant) and the overlap of
    their top ``share`` pixels (shared / selected, in [0, 1])."""
    if a.shape != b.shape:
        raise ValueError(f"maps of shapes {a.shape} and {b.shape} cannot be compared")
    x, y = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    pearson = float("nan")
    if x.std() > 0 and y.std() > 0:
        pearson = float(np.clip(np.corrcoef(x, y)[0, 1], -1.0, 1.0))
    top_a, top_b = top_indices(a, share), top_indices(b, share)
    return pearson, len(np.intersect1d(top_a, top_b)) / len(top_a)


def mass_share(saliency: np.ndarray, region: tuple[slice, ...]) -> float:
    """Share of the map's total mass inside ``region`` (NaN for an all-zero map)."""
    total = float(saliency.sum())
    return float(saliency[region].sum()) / total if total > 0 else float("nan")


def resample(saliency: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A map resized (linearly) to ``shape``: maps of runs trained at other image sizes, on one grid."""
    if saliency.shape == tuple(shape):
        return saliency
    mode = "bilinear" if saliency.ndim == 2 else "trilinear"
    x = torch.from_numpy(np.ascontiguousarray(saliency, dtype=np.float32))[None, None]
    return torch.nn.functional.interpolate(x, size=tuple(shape), mode=mode, align_corners=False)[0, 0].numpy()
