"""What ``predict`` reads: image files, folders of them, and ``.npz`` arrays, each input with a name; for a 3D
model, NIfTI files and DICOM series (one folder per volume) in place of image files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data import DataError, Samples
from ..data.readers import IMAGE_SUFFIXES
from ..data.volumes import is_dicom_series, is_volume

# Arrays of an ``.npz`` that hold images to predict on, in order of preference (MedMNIST files: the test split).
NPZ_KEYS = ("images", "test_images")
VOLUME_NAMES = ("*.nii", "*.nii.gz")


@dataclass
class InputSet:
    """Named images from one source: a run of files (``samples.items`` are paths) or one ``.npz`` array.
    Labels are absent (zeros); prediction needs none."""

    names: list[str]
    samples: Samples

    def __len__(self) -> int:
        return len(self.names)


def _folder_images(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.rglob("*")
                   if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
    if not files:
        raise DataError(f"folder {folder} holds no image files ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return files


def _folder_volumes(folder: Path) -> list[Path]:
    """The volumes in ``folder``: the folder itself where it is one DICOM series, else every NIfTI file and
    DICOM series folder under it (sorted)."""
    if is_dicom_series(folder):
        return [folder]
    volumes = sorted(p for p in folder.rglob("*")
                     if not any(part.startswith(".") for part in p.relative_to(folder).parts)
                     and (is_dicom_series(p) if p.is_dir() else is_volume(p)))
    if not volumes:
        raise DataError(f"folder {folder} holds no volumes (NIfTI files {', '.join(VOLUME_NAMES)} or DICOM series, "
                        f"one folder of slices per volume)")
    return volumes


def _npz_images(path: Path, spatial_dims: int) -> tuple[str, np.ndarray]:
    """The name and contents of the image array of an ``.npz``."""
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as err:  # every loader error means "unreadable"
        raise DataError(f"cannot read {path}: {err}") from err
    with archive:
        keys = [k for k in NPZ_KEYS if k in archive.files] or (archive.files if len(archive.files) == 1 else [])
        if not keys:
            raise DataError(f"{path} holds arrays {', '.join(archive.files)}; predict reads the array named "
                            f"{' or '.join(NPZ_KEYS)}, or the only array of the file")
        key = keys[0]
        images = archive[key]
    channels_last = spatial_dims == 2 and images.ndim == 4 and images.shape[-1] in (1, 3)
    if images.ndim != spatial_dims + 1 and not channels_last:
        raise DataError(f"{path}: array {key} has shape {images.shape}; this {spatial_dims}D model reads "
                        f"{'(N, H, W[, C])' if spatial_dims == 2 else '(N, D, H, W)'}")
    return key, images


def collect_inputs(inputs: list[Path], spatial_dims: int) -> list[InputSet]:
    """Inputs in command-line order: an image file is one input, a folder all image files under it (sorted),
    an ``.npz`` one input per image, named ``file.npz:array[i]``. For a 3D model (``spatial_dims`` 3) a NIfTI
    file is one input, and a folder is one DICOM series, or else all NIfTI files and series folders under it."""
    if not inputs:
        raise ValueError("no input given: name image files, folders or .npz files")
    sets: list[InputSet] = []
    files: list[Path] = []

    def close_files() -> None:
        if files:
            sets.append(InputSet([str(f) for f in files], Samples(list(files), np.zeros(len(files)))))
            files.clear()

    for path in map(Path, inputs):
        if not path.exists():
            raise FileNotFoundError(f"input {path} does not exist")
        if path.is_dir():
            files.extend(_folder_volumes(path) if spatial_dims == 3 else _folder_images(path))
        elif path.suffix == ".npz":
            close_files()
            key, images = _npz_images(path, spatial_dims)
            sets.append(InputSet([f"{path}:{key}[{i}]" for i in range(len(images))],
                                 Samples(images, np.zeros(len(images)))))
        else:
            files.append(path)
    close_files()
    return sets
