"""Readers: MedMNIST ``.npz``, ImageFolder trees, CSV manifests. Labels are checked as they are read: an
evaluation label unknown to training, a negative or out-of-range index, two labels (or class folders) that
differ only in case or surrounding spaces, a file listed twice are refused, naming the row or index. So are
array shapes no reader can take, non-finite array values, and a set mixing 2D images with volumes."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ._types import DataError, DataSplits, Samples
from .splits import stratified_partition
from .volumes import is_dicom_series, is_volume

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".dcm", ".nii", ".gz"}
SPLITS = ("train", "val", "test")
# Folder names of each split in an ImageFolder tree (compared in lower case).
SPLIT_FOLDERS = {"train": "train", "val": "val", "valid": "val", "validation": "val", "dev": "val", "test": "test"}
# A column naming the group (patient) of each row: intervals then resample whole groups (the first present).
GROUP_COLUMNS = ("group", "patient")
# Paper protocol: 64 % train, 16 % val, 20 % test; a val split carved from train keeps 16:64.
FRACTIONS = [0.64, 0.16, 0.20]
VAL_FROM_TRAIN = 0.2


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
        splits, width = {}, 0
        for s in SPLITS:
            images, labels = archive[f"{s}_images"], archive[f"{s}_labels"]
            _check_images(path, f"{s}_images", images)
            if len(images) != len(labels):
                raise DataError(f"{path}: {s}_images has {len(images)} entries but {s}_labels {len(labels)}")
            labels = labels.reshape(len(labels), -1)
            width = width or labels.shape[1]
            if labels.shape[1] != width:
                raise DataError(f"{path}: {s}_labels has {labels.shape[1]} label(s) per sample but train_labels "
                                f"{width}; every split needs the same label layout")
            splits[s] = Samples(images, labels[:, 0].astype(np.int64) if labels.shape[1] == 1 else labels)
    multilabel = splits["train"].labels.ndim == 2
    for s, samples in splits.items() if multilabel else ():
        bad = np.argwhere((samples.labels != 0) & (samples.labels != 1))
        if len(bad):
            i, j = map(int, bad[0])
            raise DataError(f"{path}: {s}_labels[{i}, {j}] = {samples.labels[i, j]}; multi-label columns hold 0 or "
                            f"1 only")
    count = splits["train"].labels.shape[1] if multilabel else _check_indices(path, splits)
    spatial_dims = 3 if splits["train"].items.ndim == 4 and splits["train"].items.shape[-1] not in (1, 3) else 2
    return DataSplits(**splits, classes=[str(c) for c in range(count)], source=str(path), spatial_dims=spatial_dims)


def _check_images(path: Path, name: str, images: np.ndarray) -> None:
    """An image array must be (N, H, W), (N, H, W, C) or (N, D, H, W) and hold finite values; the message names
    the array, its shape and (for values) the first bad index."""
    if images.ndim not in (3, 4):
        single = [axis for axis in range(1, images.ndim) if images.shape[axis] == 1]
        hint = (f"; axis {single[0]} has size 1: drop it (numpy.squeeze(a, axis={single[0]})) for (N, D, H, W) "
                f"volumes" if images.ndim == 5 and single else "")
        raise DataError(f"{path}: {name} has shape {images.shape} ({images.ndim}D); images are (N, H, W) or "
                        f"(N, H, W, C), volumes (N, D, H, W){hint}")
    if images.dtype.kind in "fc":
        finite = np.isfinite(images.reshape(len(images), -1)).all(1)
        if not finite.all():
            i = int(np.flatnonzero(~finite)[0])
            raise DataError(f"{path}: {name}[{i}] holds NaN or infinite values ({int((~finite).sum())} such "
                            f"image(s) in {name}); fix or drop them")


def _check_indices(path: Path, splits: dict[str, Samples]) -> int:
    """Class count of integer labels: train's largest index + 1. A negative label, or a val/test label beyond
    train's classes, is refused naming the split and index."""
    for s, samples in splits.items():
        negative = np.flatnonzero(samples.labels < 0)
        if len(negative):
            i = int(negative[0])
            raise DataError(f"{path}: {s}_labels[{i}] = {samples.labels[i]} is negative (class indices start at 0)")
    count = int(splits["train"].labels.max()) + 1 if len(splits["train"]) else 0
    for s in ("val", "test"):
        beyond = np.flatnonzero(splits[s].labels >= count)
        if len(beyond):
            i = int(beyond[0])
            raise DataError(f"{path}: {s}_labels[{i}] = {splits[s].labels[i]} is not a class of train_labels "
                            f"(0..{count - 1}); {len(beyond)} such label(s) in {s}")
    return count


def check_spellings(names: list[str], source: Path, places: list[str] | None, what: str) -> None:
    """Two names that differ only in case or surrounding spaces (``PNEUMONIA``, ``Pneumonia``, ``NORMAL ``)
    would be two classes: refused, naming both spellings (and ``places``, where each occurs, if given)."""
    seen: dict[str, tuple[str, str]] = {}
    for i, name in enumerate(names):
        place = places[i] if places else ""
        first, first_place = seen.setdefault(name.strip().casefold(), (name, place))
        if first != name:
            how = ("surrounding spaces" if first.strip() == name.strip() else
                   "case" if first.casefold() == name.casefold() else "case and surrounding spaces")
            raise DataError(f"{source}{' ' + place if place else ''}: {what} {name!r} differs from {first!r}"
                            f"{f' ({first_place})' if first_place else ''} only in {how}; {what}s are compared "
                            f"exactly, fix the spelling")


def _class_items(folder: Path) -> list[Path]:
    """The items under a class folder: its image files, and each DICOM series folder as one volume."""
    items = []
    for entry in folder.iterdir():
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            items += [entry] if is_dicom_series(entry) else _class_items(entry)
        elif _is_image(entry):
            items.append(entry)
    return items


def spatial_dims(items: list[Path], source: Path) -> int:
    """3 where the items are volumes (NIfTI files, DICOM series folders), 2 where they are images; a set mixing
    both is refused, naming one of each."""
    volumes = [is_volume(Path(p)) for p in items]
    if any(volumes) and not all(volumes):
        flat, volume = items[volumes.index(False)], items[volumes.index(True)]
        raise DataError(f"{source} mixes 2D images ({flat}) and volumes ({volume}); a data set holds one kind")
    return 3 if volumes and volumes[0] else 2


def _class_folder(root: Path) -> tuple[list[Path], np.ndarray, list[str]]:
    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise DataError(f"{root} has no class folders (expected {root}/<class>/<image files>)")
    check_spellings(classes, root, None, "class folder")
    items, labels = [], []
    for c, name in enumerate(classes):
        files = sorted(_class_items(root / name))
        items += files
        labels += [c] * len(files)
    if not items:
        raise DataError(f"{root} holds no image files under its class folders")
    return items, np.asarray(labels, dtype=np.int64), classes


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def _split_folders(root: Path) -> dict[str, Path]:
    """The split folders of ``root`` by split (``valid``, ``validation`` and ``dev`` name val); empty when
    ``root`` holds class folders. Another folder beside split folders is refused, naming it."""
    folders = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    found: dict[str, Path] = {}
    for folder in folders:
        split = SPLIT_FOLDERS.get(folder.name.lower())
        if split in found:
            raise DataError(f"{root} has two {split} folders, {found[split].name}/ and {folder.name}/; keep one")
        if split is not None:
            found[split] = folder
    others = [d.name for d in folders if d.name.lower() not in SPLIT_FOLDERS]
    if found and others:
        raise DataError(f"{root} has split folders ({', '.join(p.name for p in found.values())}) and also "
                        f"{', '.join(o + '/' for o in others)}, which is not a split (train, val|valid|validation|dev, "
                        f"test); move it out of {root}")
    return found


def read_folder(root: Path, seed: int) -> DataSplits:
    """An ImageFolder tree: ``root/<class>/*``, or ``root/{train,val,test}/<class>/*`` where split folders exist
    (val may be named valid, validation or dev; a missing val split is carved from train, stratified; with no
    split folders, 64/16/20)."""
    present = _split_folders(root)
    notes = []
    if not present:
        items, labels, classes = _class_folder(root)
        parts = stratified_partition(labels, FRACTIONS, seed)
        whole = Samples(items, labels)
        splits = dict(zip(SPLITS, (whole.subset(p) for p in parts)))
        notes.append(f"split 64/16/20 stratified with seed {seed}")
    else:
        if "train" not in present or "test" not in present:
            raise DataError(f"{root} has split folders {[p.name for p in present.values()]}; train/ and test/ are "
                            f"both needed")
        splits, classes = {}, None
        for s in [s for s in SPLITS if s in present]:
            items, labels, names = _class_folder(present[s])
            if classes is not None and names != classes:
                raise DataError(f"{present[s]} has classes {names} but {present['train']} has {classes}")
            classes = names
            splits[s] = Samples(items, labels)
        if "val" not in splits:
            keep, val = stratified_partition(splits["train"].labels, [1 - VAL_FROM_TRAIN, VAL_FROM_TRAIN], seed)
            splits["train"], splits["val"] = splits["train"].subset(keep), splits["train"].subset(val)
            notes.append(f"val carved from train ({VAL_FROM_TRAIN:.0%}, stratified, seed {seed})")
        elif present["val"].name != "val":
            notes.append(f"val split read from {present['val'].name}/")
    dims = spatial_dims([p for s in splits.values() for p in s.items], root)
    return DataSplits(**splits, classes=classes, source=str(root), spatial_dims=dims, notes=notes)


def _duplicates(path: Path, items: list[Path], lines: list[int], dedupe: bool) -> tuple[np.ndarray, list[str]]:
    """Indices of the rows to keep and notes. A file listed on several rows is refused with its row numbers,
    or with ``dedupe`` only its first row is kept."""
    first: dict[Path, int] = {}
    repeats: dict[Path, list[int]] = {}
    for i, file in enumerate(items):
        if file in first:
            repeats.setdefault(file, [lines[first[file]]]).append(lines[i])
        else:
            first[file] = i
    if not repeats:
        return np.arange(len(items)), []
    shown = "; ".join(f"{file.name} on rows {', '.join(map(str, rows))}" for file, rows in list(repeats.items())[:5])
    dropped = sum(len(rows) - 1 for rows in repeats.values())
    if not dedupe:
        raise DataError(f"{path}: {len(repeats)} image(s) listed more than once ({shown}); a repeated image can "
                        f"land in train and test at once: remove the repeats or pass --dedupe (keeps the first row)")
    return np.sort(np.asarray(list(first.values()))), [f"{dropped} repeated row(s) dropped (--dedupe): {shown}"]


def _class_names(path: Path, raw: list[str], lines: list[int], split_of: list[str]) -> list[str]:
    """Sorted class names of a ``label`` column: those of the train rows where the manifest gives splits. Two
    names that differ only in case or surrounding spaces, or a val/test label absent from train, are refused
    naming the row."""
    check_spellings(raw, path, [f"row {line}" for line in lines], "label")
    if not any(split_of):
        return sorted(set(raw))
    classes = sorted({label for label, split in zip(raw, split_of) if split == "train"})
    for label, line, split in zip(raw, lines, split_of):
        if label not in classes:
            raise DataError(f"{path} row {line}: {split} label {label!r} does not occur in train (train classes: "
                            f"{', '.join(classes)})")
    return classes


def read_csv(path: Path, seed: int, dedupe: bool = False, uncertain: str | None = None) -> DataSplits:
    """A CSV manifest ``path,label[,split][,group|patient]`` (paths relative to the CSV; ``group`` or ``patient``
    names each row's group, kept with the samples so that intervals resample whole groups); several label columns instead of
    ``label`` make a multi-label set (0/1 per column; -1/blank with an ``uncertain`` policy, see
    :func:`multilabel_cell`). A file listed twice is refused unless ``dedupe``. Paths to NIfTI files or DICOM
    series folders make a set of volumes."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise DataError(f"{path} has no rows")
    columns = list(rows[0])
    if "path" not in columns:
        raise DataError(f"{path} needs a 'path' column (found {', '.join(columns)})")
    group_column = next((c for c in GROUP_COLUMNS if c in columns), None)
    label_columns = [c for c in columns if c not in ("path", "split", *GROUP_COLUMNS)]
    if not label_columns:
        raise DataError(f"{path} has no label column (expected 'label' or one column per label)")
    items, raw, split_of, lines, group_of = [], [], [], [], []
    for line, row in enumerate(rows, start=2):
        if not row["path"]:
            raise DataError(f"{path} row {line}: empty path")
        file = (path.parent / row["path"]).resolve()
        if not file.exists():
            raise DataError(f"{path} row {line}: image {row['path']} does not exist")
        values = [row.get(c) for c in label_columns]
        if any(v is None for v in values) or (label_columns == ["label"] and not values[0].strip()):
            raise DataError(f"{path} row {line}: label missing for {row['path']}")
        split = (row.get("split") or "").strip()
        if "split" in columns and split not in SPLITS:
            raise DataError(f"{path} row {line}: split {split!r} is not one of train/val/test")
        if group_column is not None:
            group = (row.get(group_column) or "").strip()
            if not group:
                raise DataError(f"{path} row {line}: empty {group_column} (every row needs its group, or drop the "
                                f"column)")
            group_of.append(group)
        items.append(file)
        raw.append(values)
        split_of.append(split)
        lines.append(line)
    keep, notes = _duplicates(path, items, lines, dedupe)
    items, raw, split_of, lines = ([values[i] for i in keep] for values in (items, raw, split_of, lines))
    groups = np.asarray([group_of[i] for i in keep]) if group_column is not None else None
    if label_columns == ["label"]:
        classes = _class_names(path, [v[0] for v in raw], lines, split_of)
        labels = np.asarray([classes.index(v[0]) for v in raw], dtype=np.int64)
    else:
        classes = label_columns
        labels = np.asarray([[multilabel_cell(x, uncertain, f"{path} row {line} column {c}")
                              for x, c in zip(v, label_columns)] for v, line in zip(raw, lines)], dtype=np.float32)
    whole = Samples(items, labels, groups)
    if group_column is not None:
        notes.append(f"groups from the {group_column!r} column (intervals resample whole groups)")
    if "split" in columns:
        splits = {s: whole.subset(np.flatnonzero(np.asarray(split_of) == s)) for s in SPLITS}
        notes.append("splits from the manifest")
    else:
        splits = dict(zip(SPLITS, (whole.subset(p) for p in stratified_partition(labels, FRACTIONS, seed))))
        notes.append(f"split 64/16/20 stratified with seed {seed}")
    return DataSplits(**splits, classes=classes, source=str(path), spatial_dims=spatial_dims(items, path),
                      notes=notes)


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
                        f"uncertain-label policy ({'|'.join(UNCERTAIN)}) to read it, ttl pretrain --uncertain "
                        f"POLICY; ttl train, compare and search take no such policy: write 0 or 1 in the cell")
    if uncertain not in UNCERTAIN:
        raise DataError(f"uncertain-label policy must be one of {', '.join(UNCERTAIN)}, not {uncertain!r}")
    return 0.0 if value is None else UNCERTAIN[uncertain]
