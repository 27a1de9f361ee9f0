"""Image + mask pairs for segmentation: reading (folders, CSV manifest, built-in synthetic set), splits,
preprocessing and joint augmentation.

Sources: ``root/images/*`` + ``root/masks/*`` with the same file stems; a CSV manifest ``image,mask[,split]``
(paths relative to the CSV); ``synthetic-seg``. Masks are PNG (8-bit or palette) or ``.npy`` integer arrays.
Without ``mask_values`` a mask must be binary (0/1 or 0/255); with it, pixel value ``mask_values[i]`` is
class i and any other value is an error. Images and masks are resized (not cropped) to a square, so every
pixel of the original has a prediction once resized back; masks with nearest-neighbour.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from ._types import DataError
from .images import Pixels, in_memory, read_image
from .readers import FRACTIONS, SPLITS, _is_image
from .splits import stratified_partition
from .transforms import augment, display, random_affine

MASK_SUFFIXES = (".png", ".npy")
BINARY = ("background", "foreground")
SYNTHETIC_SIZE = 64
SYNTHETIC_COUNTS = {"train": 128, "val": 32, "test": 40}


@dataclass
class MaskSamples:
    """Images and their masks, one split. Files (paths), or arrays already in memory: ``images`` uint8
    (N, H, W[, C]) and ``masks`` class indices (N, H, W)."""

    images: list[Path] | np.ndarray
    masks: list[Path] | np.ndarray

    def __len__(self) -> int:
        return len(self.images)

    def parts(self) -> tuple:
        """What identifies the split: its images and masks."""
        return self.images, self.masks

    def subset(self, index: np.ndarray) -> MaskSamples:
        return MaskSamples(_pick(self.images, index), _pick(self.masks, index))


def _pick(items: list[Path] | np.ndarray, index: np.ndarray) -> list[Path] | np.ndarray:
    return items[index] if isinstance(items, np.ndarray) else [items[i] for i in index]


@dataclass
class MaskSplits:
    """Train/val/test pairs with the class names and the mask pixel value of each class."""

    train: MaskSamples
    val: MaskSamples
    test: MaskSamples
    classes: list[str]
    mask_values: tuple[int, ...] | None
    source: str
    notes: list[str] = field(default_factory=list)

    spatial_dims = 2
    kind = "segmentation"

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def out_channels(self) -> int:
        """Logit maps a model needs: 1 for a binary mask (sigmoid), one per class otherwise (softmax)."""
        return 1 if len(self.classes) == 2 else len(self.classes)

    def splits(self) -> dict[str, MaskSamples]:
        return {"train": self.train, "val": self.val, "test": self.test}


def parse_mask_values(text: str) -> tuple[int, ...]:
    """``--mask-values 0,255`` → (0, 255): the pixel value of class 0, 1, ..."""
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError as err:
        raise ValueError(f"--mask-values {text!r}: give comma-separated integers, e.g. 0,255") from err
    if len(values) < 2 or len(set(values)) != len(values):
        raise ValueError(f"--mask-values {text!r}: give at least two distinct pixel values, one per class")
    return values


def read_mask(path: Path, mask_values: tuple[int, ...] | None) -> np.ndarray:
    """Class indices (H, W) uint8 of mask file ``path`` (see the module docstring for the value rules)."""
    try:
        if path.suffix.lower() == ".npy":
            pixels = np.load(path, allow_pickle=False)
        else:
            from PIL import Image

            with Image.open(path) as image:
                pixels = np.asarray(image if image.mode in ("P", "L", "1", "I", "I;16") else image.convert("L"))
    except FileNotFoundError as err:
        raise DataError(f"mask {path} does not exist") from err
    except Exception as err:
        raise DataError(f"cannot read mask {path}: {type(err).__name__}: {err}") from err
    if pixels.ndim != 2 or not (np.issubdtype(pixels.dtype, np.integer) or pixels.dtype == bool):
        raise DataError(f"mask {path} must be a 2D integer map, got {pixels.dtype} of shape {pixels.shape}")
    pixels = pixels.astype(np.int64)
    values = np.unique(pixels)
    table = mask_values
    if table is None:
        table = (0, 255) if set(values) <= {0, 255} and 255 in values else (0, 1)
    unknown = sorted(set(values.tolist()) - set(table))
    if unknown:
        hint = "binary masks hold 0/1 or 0/255; give --mask-values" if mask_values is None else "--mask-values"
        raise DataError(f"mask {path} holds values {unknown[:5]} not in {list(table)} ({hint})")
    lookup = np.zeros(max(table) + 1, dtype=np.uint8)
    lookup[list(table)] = np.arange(len(table))
    return lookup[pixels]


def is_mask_source(spec: str | Path) -> bool:
    """Whether ``spec`` names segmentation data (so ``--task segmentation`` can be inferred from it):
    ``synthetic-seg``, a folder with images/ and masks/, or a CSV whose header has image and mask columns."""
    if str(spec) == "synthetic-seg":
        return True
    path = Path(spec)
    if path.is_dir():
        return (path / "images").is_dir() and (path / "masks").is_dir()
    if path.suffix == ".csv" and path.is_file():
        with open(path, newline="") as handle:
            header = next(csv.reader(handle), [])
        return {"image", "mask"} <= set(header)
    return False


def load_masks(spec: str | Path, seed: int = 0, mask_values: tuple[int, ...] | None = None,
               limit: int | None = None) -> MaskSplits:
    """Read ``spec`` (``synthetic-seg``, a folder with images/ + masks/, or a CSV manifest), split it 64/16/20
    (seeded) where it has no splits, cap each split at ``limit`` pairs (seeded choice)."""
    if str(spec) == "synthetic-seg":
        data = synthetic_seg(seed)
    else:
        path = Path(spec)
        if not path.exists():
            raise DataError(f"data {path} does not exist (give a folder with images/ and masks/, a .csv "
                            "manifest or 'synthetic-seg')")
        if path.is_dir():
            pairs, split_of, notes = _folder_pairs(path), None, []
        elif path.suffix == ".csv":
            pairs, split_of = _csv_pairs(path)
            notes = []
        else:
            raise DataError(f"data {path}: unsupported format for segmentation (folder or .csv)")
        whole = MaskSamples([p[0] for p in pairs], [p[1] for p in pairs])
        if split_of is None:
            parts = stratified_partition(np.zeros(len(whole), dtype=np.int64), FRACTIONS, seed)
            notes.append(f"split 64/16/20 with seed {seed}")
        else:
            parts = [np.flatnonzero(np.asarray(split_of) == s) for s in SPLITS]
            notes.append("splits from the manifest")
        classes = BINARY if mask_values is None else [str(v) for v in mask_values]
        data = MaskSplits(*(whole.subset(p) for p in parts), classes=list(classes), mask_values=mask_values,
                          source=str(path), notes=notes)
    if limit is not None:
        rng = np.random.default_rng(seed)
        for split, samples in data.splits().items():
            if len(samples) > limit:
                setattr(data, split, samples.subset(np.sort(rng.permutation(len(samples))[:limit])))
        data.notes.append(f"at most {limit} pairs per split (seeded choice)")
    for split, samples in data.splits().items():
        if len(samples) == 0:
            raise DataError(f"split '{split}' of {data.source} is empty")
    return data


def _folder_pairs(root: Path) -> list[tuple[Path, Path]]:
    images_dir, masks_dir = root / "images", root / "masks"
    if not images_dir.is_dir() or not masks_dir.is_dir():
        raise DataError(f"{root} needs the folders images/ and masks/ (pairs with the same file stem)")
    masks: dict[str, Path] = {}
    for mask in sorted(masks_dir.iterdir()):
        if mask.suffix.lower() in MASK_SUFFIXES and not mask.name.startswith("."):
            if mask.stem in masks:
                raise DataError(f"{masks_dir} holds two masks for {mask.stem}: {masks[mask.stem].name}, {mask.name}")
            masks[mask.stem] = mask
    images = sorted(p for p in images_dir.iterdir() if p.is_file() and _is_image(p))
    if not images:
        raise DataError(f"{images_dir} holds no image files")
    missing = [p for p in images if p.stem not in masks]
    if missing:
        raise DataError(f"image {missing[0]} has no mask in {masks_dir} (expected {missing[0].stem}.png or "
                        f".npy){f'; {len(missing) - 1} more images lack masks' if len(missing) > 1 else ''}")
    return [(p, masks[p.stem]) for p in images]


def _csv_pairs(path: Path) -> tuple[list[tuple[Path, Path]], list[str] | None]:
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise DataError(f"{path} has no rows")
    columns = list(rows[0])
    if "image" not in columns or "mask" not in columns:
        raise DataError(f"{path} needs the columns image,mask[,split] (found {', '.join(columns)})")
    pairs, split_of = [], []
    for line, row in enumerate(rows, start=2):
        files = []
        for column in ("image", "mask"):
            file = (path.parent / (row[column] or "")).resolve()
            if not row[column] or not file.is_file():
                raise DataError(f"{path} row {line}: {column} {row[column]!r} does not exist")
            files.append(file)
        split = (row.get("split") or "").strip()
        if "split" in columns and split not in SPLITS:
            raise DataError(f"{path} row {line}: split {split!r} is not one of train/val/test")
        pairs.append((files[0], files[1]))
        split_of.append(split)
    return pairs, split_of if "split" in columns else None


def synthetic_seg(seed: int = 0) -> MaskSplits:
    """Built-in binary set: 64x64 grayscale images with one to three soft-edged bright ellipses on a smooth,
    noisy background; the mask is the union of the ellipses. Reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:SYNTHETIC_SIZE, 0:SYNTHETIC_SIZE] / SYNTHETIC_SIZE
    splits = {}
    for split, count in SYNTHETIC_COUNTS.items():
        images, masks = [], []
        for _ in range(count):
            image = 0.3 + 0.1 * np.sin(2 * np.pi * (x * rng.uniform(0.5, 1.5) + rng.uniform()))
            mask = np.zeros(x.shape, dtype=bool)
            for _ in range(rng.integers(1, 4)):
                cy, cx = rng.uniform(0.2, 0.8, 2)
                ry, rx = rng.uniform(0.08, 0.2, 2)
                inside = ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1
                mask |= inside
            image = image + 0.35 * mask + rng.normal(0, 0.05, x.shape)
            images.append((np.clip(image, 0, 1) * 255).astype(np.uint8))
            masks.append(mask.astype(np.uint8))
        splits[split] = MaskSamples(np.stack(images), np.stack(masks))
    return MaskSplits(**splits, classes=list(BINARY), mask_values=None, source="synthetic-seg",
                      notes=[f"built-in synthetic segmentation set (seed {seed})"])


def resize_image(pixels: Pixels, size: int, intensity: str = "dtype") -> torch.Tensor:
    """An image → (C, size, size) uint8: the intensity policy, then the whole image resized (antialiased, no
    crop)."""
    x = display(pixels, 2, intensity).float().unsqueeze(0)
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return x.squeeze(0).round().clamp(0, 255).to(torch.uint8)


def resize_mask(mask: np.ndarray, size: int) -> torch.Tensor:
    """(H, W) class indices → (size, size) uint8, nearest neighbour."""
    x = torch.from_numpy(np.ascontiguousarray(mask)).float()[None, None]
    return F.interpolate(x, size=(size, size), mode="nearest-exact").to(torch.uint8)[0, 0]


def preprocess_pairs(samples: MaskSamples, image_size: int, mask_values: tuple[int, ...] | None,
                     intensity: str = "dtype") -> tuple[torch.Tensor, torch.Tensor]:
    """Every pair decoded and resized once: images uint8 (N, C, S, S), masks uint8 class indices (N, S, S).
    A mask whose size differs from its image's is an error naming both files."""
    images, masks = [], []
    for i in range(len(samples)):
        image, mask = samples.images[i], samples.masks[i]
        pixels = in_memory(image, f"image {i}") if isinstance(image, np.ndarray) else read_image(image)
        classes = mask if isinstance(mask, np.ndarray) else read_mask(mask, mask_values)
        if pixels.array.shape[:2] != classes.shape:
            raise DataError(f"mask {mask} is {classes.shape[1]}x{classes.shape[0]} but image {image} is "
                            f"{pixels.array.shape[1]}x{pixels.array.shape[0]}")
        images.append(resize_image(pixels, image_size, intensity))
        masks.append(resize_mask(classes, image_size))
    if len({t.shape[0] for t in images}) > 1:
        images = [t.expand(3, *t.shape[1:]) if t.shape[0] == 1 else t for t in images]
    return torch.stack(images), torch.stack(masks)


def check_mask_classes(data: MaskSplits, masks: dict[str, torch.Tensor]) -> None:
    """Every class a model is scored on (binary masks: the foreground; N classes: each) must occur in every
    split's ``masks`` (class indices, as trained and scored): an absent class has no Dice to learn or a Dice of
    0 in the mean. Refused naming the class, its mask value and the split."""
    values = data.mask_values or (None, None)
    scored = [1] if data.out_channels == 1 else list(range(data.num_classes))
    for split, split_masks in masks.items():
        present = set(torch.unique(split_masks).tolist())
        absent = [c for c in scored if c not in present]
        if not absent:
            continue
        c = absent[0]
        value = values[c] if values[c] is not None else "1 or 255"
        if data.out_channels == 1:
            raise DataError(f"split '{split}' of {data.source}: every mask is empty (no pixel of class "
                            f"'{data.classes[c]}', value {value}); a model would learn nothing (Dice 0): check "
                            f"the masks, or --mask-values if the foreground has another value")
        raise DataError(f"split '{split}' of {data.source}: class '{data.classes[c]}' (mask value {value}) occurs "
                        f"in no mask{f' ({len(absent)} such classes)' if len(absent) > 1 else ''}; its Dice of 0 "
                        f"would drag the mean: drop the value from --mask-values or rebalance the split")


class MaskDataset(Dataset):
    """Preprocessed pairs → (normalised image (C, S, S) float, mask (S, S) long); ``train=True`` applies the
    same random crop/rotation to image (bilinear) and mask (nearest)."""

    def __init__(self, images: torch.Tensor, masks: torch.Tensor, mean: tuple[float, ...],
                 std: tuple[float, ...], train: bool, in_chans: int = 3) -> None:
        self.images, self.masks, self.train, self.in_chans = images, masks, train, in_chans
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        x, mask = self.images[i], self.masks[i]
        if self.train:
            theta = random_affine()
            x, mask = augment(x, theta), augment(mask.unsqueeze(0), theta, mode="nearest")[0]
        x = x.float() / 255
        if x.shape[0] != self.in_chans:
            x = x.expand(self.in_chans, *x.shape[1:])
        return (x - self.mean) / self.std, mask.long()
