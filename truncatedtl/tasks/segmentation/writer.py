"""Prediction writer: one mask PNG per input image at the image's original size (and its class
probabilities as ``.npy`` on request)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...data import DataError, Pixels, read_image
from ...data.masks import MaskDataset, resize_image
from ...files import atomic_path


def model_input(pixels: Pixels, image_size: int, mean: tuple[float, ...], std: tuple[float, ...],
                in_chans: int = 3, intensity: str = "dtype") -> torch.Tensor:
    """The (C, S, S) input a segmentation network sees for one image: resized whole, then normalised."""
    image = resize_image(pixels, image_size, intensity)
    return MaskDataset(image[None], torch.zeros(1, image_size, image_size), mean, std, False, in_chans)[0][0]


@torch.no_grad()
def predict_probabilities(model: nn.Module, pixels: Pixels, image_size: int, mean: tuple[float, ...],
                          std: tuple[float, ...], in_chans: int = 3, intensity: str = "dtype") -> torch.Tensor:
    """(C_out, H, W) probabilities for one image of (H, W[, C]) ``pixels``: the model sees it resized to
    ``image_size``; its logits are resized back (bilinear) before the sigmoid (C_out = 1) or softmax."""
    model.eval()
    x = model_input(pixels, image_size, mean, std, in_chans, intensity)
    device = next(model.parameters()).device
    logits = F.interpolate(model(x[None].to(device)), size=pixels.array.shape[:2], mode="bilinear", align_corners=False)
    return (torch.sigmoid(logits) if logits.shape[1] == 1 else torch.softmax(logits, 1))[0].cpu()


def mask_from_probabilities(probs: torch.Tensor) -> torch.Tensor:
    """(C, H, W) probabilities → (H, W) class indices: p > 0.5 for one map, argmax otherwise."""
    return (probs[0] > 0.5).long() if probs.shape[0] == 1 else probs.argmax(0)


def write_predictions(model: nn.Module, images: list[Path], out_dir: Path, image_size: int,
                      mean: tuple[float, ...], std: tuple[float, ...], mask_values: tuple[int, ...] | None = None,
                      probabilities: bool = False, in_chans: int = 3,
                      intensity: str = "dtype") -> tuple[list[Path], list[str]]:
    """``out_dir/<stem>.png`` for each readable image: class i written as pixel value ``mask_values[i]`` (binary
    default 0/255); with ``probabilities``, ``out_dir/<stem>.npy`` float32 (C_out, H, W) too. Each file is
    written whole (temporary name, then renamed). Returns the mask paths, and the reasons of the images that
    could not be read (they get no mask)."""
    from PIL import Image

    stems = [p.stem for p in images]
    repeated = sorted({s for s in stems if stems.count(s) > 1})
    if repeated:
        raise DataError(f"several input images share the stem {repeated[0]}: their predictions would collide")
    if out_dir.exists() and not out_dir.is_dir():
        raise FileExistsError(f"--out {out_dir} is a file; a segmentation run writes a folder of mask PNGs there: "
                              f"choose a folder")
    values = np.asarray(mask_values if mask_values is not None else (0, 255))
    written, unreadable = [], []
    for path in images:
        try:
            probs = predict_probabilities(model, read_image(path), image_size, mean, std, in_chans, intensity)
        except DataError as err:
            unreadable.append(str(err))
            continue
        if max(2, probs.shape[0]) != len(values):
            raise ValueError(f"the model predicts {max(2, probs.shape[0])} classes but the mask values "
                             f"{values.tolist()} name {len(values)}")
        labels = values[mask_from_probabilities(probs).numpy()]
        mask = Image.fromarray(labels.astype(np.uint8 if values.max() <= 255 else np.uint16))
        target = out_dir / f"{path.stem}.png"
        with atomic_path(target) as tmp:
            mask.save(tmp, format="PNG")
        if probabilities:
            with atomic_path(out_dir / f"{path.stem}.npy") as tmp, open(tmp, "wb") as handle:
                np.save(handle, probs.numpy().astype(np.float32))
        written.append(target)
    return written, unreadable
