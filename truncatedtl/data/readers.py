"""Readers: MedMNIST ``.npz``, ImageFolder trees, CSV manifests, the built-in synthetic set; image files
(PNG/JPEG, DICOM, NIfTI)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ._types import DataError, DataSplits, Samples
from .splits import stratified_partition

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".dcm", ".nii", ".gz"}
SPLITS = ("train", "val", "test")
# Paper protocol: 64 % train, 16 % val, 20 % test; a val split carved from train keeps 16:64.
FRACTIONS = [0.64, 0.16, 0.20]
VAL_FROM_TRAIN = 0.2


def read_image(path: Path) -> np.ndarray:
    """Pixels of one image file as an array: (H, W), (H, W, C) or (D, H, W) for volumes."""
    try:
        name = path.name.lower()
        if name.endswith(".dcm"):
            import pydicom

            pixels = pydicom.dcmread(str(path)).pixel_array
        elif name.endswith((".nii", ".nii.gz")):
            import nibabel

            pixels = np.asarray(nibabel.load(str(path)).dataobj)
        else:
            from PIL import Image

            with Image.open(path) as image:
                image = image.convert("L") if image.mode in ("L", "I", "I;16", "F", "1") else image.convert("RGB")
                pixels = np.asarray(image)
    except FileNotFoundError as err:
        raise DataError(f"image {path} does not exist") from err
    except Exception as err:
        raise DataError(f"cannot read image {path}: {type(err).__name__}: {err}") from err
    return pixels


def read_npz(path: Path) -> DataSplits:
    """A MedMNIST-style ``.npz`` with ``{train,val,test}_{images,labels}``; 2D (N,H,W[,C]) or 3D (N,D,H,W)."""
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as err:
        raise DataError(f"cannot read {path}: {err}") from err
    with archive:
        missing = [f"{s}_{k}" for s in SPLITS for k in ("images", "labels") if f"{s}_{k}" not in archive.files]
        if missing:
            raise DataError(f"{path} lacks the arrays {', '.join(missing)} (MedMNIST layout expected)")
        splits = {}
        for s in SPLITS:
            images, labels = archive[f"{s}_images"], archive[f"{s}_labels"]
            if len(images) != len(labels):
                raise DataError(f"{path}: {s}_images has {len(images)} entries but {s}_labels {len(labels)}")
            labels = labels.reshape(len(labels), -1)
            splits[s] = Samples(images, labels[:, 0].astype(np.int64) if labels.shape[1] == 1 else labels)
    multilabel = splits["train"].labels.ndim == 2
    count = splits["train"].labels.shape[1] if multilabel else int(max(s.labels.max() for s in splits.values())) + 1
    spatial_dims = 3 if splits["train"].items.ndim == 4 and splits["train"].items.shape[-1] not in (1, 3) else 2
    return DataSplits(**splits, classes=[str(c) for c in range(count)], source=str(path), spatial_dims=spatial_dims)


def _class_folder(root: Path) -> tuple[list[Path], np.ndarray, list[str]]:
    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise DataError(f"{root} has no class folders (expected {root}/<class>/<image files>)")
    items, labels = [], []
    for c, name in enumerate(classes):
        files = sorted(p for p in (root / name).rglob("*") if p.is_file() and _is_image(p))
        items += files
        labels += [c] * len(files)
    if not items:
        raise DataError(f"{root} holds no image files under its class folders")
    return items, np.asarray(labels, dtype=np.int64), classes


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def read_folder(root: Path, seed: int) -> DataSplits:
    """An ImageFolder tree: ``root/<class>/*``, or ``root/{train,val,test}/<class>/*`` where split folders exist
    (a missing val split is carved from train, stratified; with no split folders, 64/16/20)."""
    present = [s for s in SPLITS if (root / s).is_dir()]
    notes = []
    if not present:
        items, labels, classes = _class_folder(root)
        parts = stratified_partition(labels, FRACTIONS, seed)
        whole = Samples(items, labels)
        splits = dict(zip(SPLITS, (whole.subset(p) for p in parts)))
        notes.append(f"split 64/16/20 stratified with seed {seed}")
    else:
        if "train" not in present or "test" not in present:
            raise DataError(f"{root} has split folders {present}; train/ and test/ are both needed")
        splits, classes = {}, None
        for s in present:
            items, labels, names = _class_folder(root / s)
            if classes is not None and names != classes:
                raise DataError(f"{root / s} has classes {names} but {root / 'train'} has {classes}")
            classes = names
            splits[s] = Samples(items, labels)
        if "val" not in splits:
            keep, val = stratified_partition(splits["train"].labels, [1 - VAL_FROM_TRAIN, VAL_FROM_TRAIN], seed)
            splits["train"], splits["val"] = splits["train"].subset(keep), splits["train"].subset(val)
            notes.append(f"val carved from train ({VAL_FROM_TRAIN:.0%}, stratified, seed {seed})")
    return DataSplits(**splits, classes=classes, source=str(root), notes=notes)


def read_csv(path: Path, seed: int, uncertain: str | None = None) -> DataSplits:
    """A CSV manifest ``path,label[,split]`` (paths relative to the CSV); several label columns instead of
    ``label`` make a multi-label set (0/1 per column; -1/blank with an ``uncertain`` policy, see
    :func:`multilabel_cell`)."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise DataError(f"{path} has no rows")
    columns = list(rows[0])
    if "path" not in columns:
        raise DataError(f"{path} needs a 'path' column (found {', '.join(columns)})")
    label_columns = [c for c in columns if c not in ("path", "split")]
    if not label_columns:
        raise DataError(f"{path} has no label column (expected 'label' or one column per label)")
    items, raw, split_of = [], [], []
    for line, row in enumerate(rows, start=2):
        if not row["path"]:
            raise DataError(f"{path} row {line}: empty path")
        file = (path.parent / row["path"]).resolve()
        if not file.is_file():
            raise DataError(f"{path} row {line}: image {row['path']} does not exist")
        values = [row.get(c) for c in label_columns]
        if any(v is None for v in values) or (label_columns == ["label"] and not values[0].strip()):
            raise DataError(f"{path} row {line}: label missing for {row['path']}")
        split = (row.get("split") or "").strip()
        if "split" in columns and split not in SPLITS:
            raise DataError(f"{path} row {line}: split {split!r} is not one of train/val/test")
        items.append(file)
        raw.append(values)
        split_of.append(split)
    if label_columns == ["label"]:
        classes = sorted({v[0] for v in raw})
        labels = np.asarray([classes.index(v[0]) for v in raw], dtype=np.int64)
    else:
        classes = label_columns
        labels = np.asarray([[multilabel_cell(x, uncertain, f"{path} row {line} column {c}")
                              for x, c in zip(v, label_columns)] for line, v in enumerate(raw, start=2)],
                            dtype=np.float32)
    whole = Samples(items, labels)
    if "split" in columns:
        splits = {s: whole.subset(np.flatnonzero(np.asarray(split_of) == s)) for s in SPLITS}
        notes = ["splits from the manifest"]
    else:
        splits = dict(zip(SPLITS, (whole.subset(p) for p in stratified_partition(labels, FRACTIONS, seed))))
        notes = [f"split 64/16/20 stratified with seed {seed}"]
    return DataSplits(**splits, classes=classes, source=str(path), notes=notes)


# CheXpert's uncertain-label policies (Irvin et al. 2019): -1 (uncertain) is masked out of the loss and the
# scores (``ignore``, stored as -1), or counted as negative (``zeros``) or positive (``ones``).
UNCERTAIN = {"ignore": -1.0, "zeros": 0.0, "ones": 1.0}


def multilabel_cell(text: str, uncertain: str | None, where: str) -> float:
    """One multi-label CSV cell → 1, 0 or -1 (masked). ``1``/``0`` as they are; ``-1`` (uncertain) by the
    ``uncertain`` policy; blank (not mentioned) as 0, as CheXpert counts it. -1 and blank need a policy."""
    text = text.strip()
    try:
        value = float(text) if text else None
    except ValueError:
        value = float("nan")
    if value in (0.0, 1.0):
        return value
    if value not in (None, -1.0):
        raise DataError(f"{where}: multi-label cells hold 1, 0, -1 (uncertain) or blank, not {text!r}")
    if uncertain is None:
        raise DataError(f"{where}: {'blank' if value is None else 'uncertain (-1)'} label; choose an "
                        f"uncertain-label policy ({'|'.join(UNCERTAIN)}) to read it")
    if uncertain not in UNCERTAIN:
        raise DataError(f"uncertain-label policy must be one of {', '.join(UNCERTAIN)}, not {uncertain!r}")
    return 0.0 if value is None else UNCERTAIN[uncertain]
