"""Image files read at their native bit depth: PNG/JPEG/TIFF (8- and 16-bit, signed, float), DICOM (rescale
slope/intercept, VOI window or LUT), NIfTI. Each image comes with its native display range, which the
``dtype`` intensity policy scales to the model's input range, and its name (the file), which every refusal of
its values names."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._types import DataError

# PIL modes of one-channel images kept at their own depth; every other mode becomes RGB.
_GRAY_MODES = {"L", "I", "I;16", "I;16B", "I;16L", "I;16S", "F"}
# TIFF tags: bits per sample, sample format (1 unsigned, 2 signed, 3 float).
_BITS, _FORMAT = 258, 339
# 12-bit data (CT, radiographs) is commonly stored in 16-bit files: an unsigned 16-bit image whose values all fit
# in 12 bits is read on the 12-bit range.
STORED_BITS = 12


@dataclass(frozen=True)
class Pixels:
    """Pixels of one image, (H, W), (H, W, C) or (D, H, W), and their native display range ``(lo, hi)``:
    the dtype's range, a DICOM's window, or ``None`` where the data has none (the image's own min–max then);
    ``name``: where they come from (a file), for messages."""

    array: np.ndarray
    range: tuple[float, float] | None
    name: str = "image"


def dtype_range(array: np.ndarray) -> tuple[float, float] | None:
    """Display range of an array by its type: 8- and 16-bit integers their full range (unsigned 16-bit data
    whose values all fit in :data:`STORED_BITS` bits that range), floats [0, 1]; wider integers have none
    (``None``)."""
    dtype = array.dtype
    if dtype == np.uint16 and array.size and int(array.max()) < 2**STORED_BITS:
        return (0.0, float(2**STORED_BITS - 1))
    if dtype == np.bool_:
        return (0.0, 1.0)
    if dtype.kind in "ui" and dtype.itemsize <= 2:
        info = np.iinfo(dtype)
        return (float(info.min), float(info.max))
    if dtype.kind == "f":
        return (0.0, 1.0)
    return None


def in_memory(array: np.ndarray, name: str = "array") -> Pixels:
    """An image already in memory (an ``.npz`` entry) with its dtype's range."""
    return Pixels(array, dtype_range(array), name)


def _pil(path: Path) -> Pixels:
    from PIL import Image

    with Image.open(path) as image:
        if image.mode == "1":
            image = image.convert("L")
        elif image.mode not in _GRAY_MODES:
            image = image.convert("RGB")
        pixels = np.asarray(image)
        if image.mode == "I":  # 16-bit images PIL widened to int32: back to their stored type
            tags = getattr(image, "tag_v2", {})
            bits, kind = (np.ravel(tags.get(tag, default))[0] for tag, default in
                          ((_BITS, 16 if image.format == "PNG" else 32), (_FORMAT, 1)))
            if bits == 16:
                pixels = pixels.astype(np.int16 if kind == 2 else np.uint16)
    return Pixels(pixels, dtype_range(pixels), str(path))


def _dicom(path: Path) -> Pixels:
    """Stored values through the modality LUT (rescale slope/intercept: CT in HU); display range from the VOI
    window where the file has one, else the VOI LUT, else the stored bits' range through the rescale."""
    import pydicom
    from pydicom.pixels import apply_modality_lut, apply_voi_lut

    ds = pydicom.dcmread(str(path))
    stored = ds.pixel_array
    values = np.asarray(apply_modality_lut(stored, ds), dtype=np.float32)
    if "WindowCenter" in ds and "WindowWidth" in ds:
        center, width = (float(v[0] if isinstance(v, pydicom.multival.MultiValue) else v)
                         for v in (ds.WindowCenter, ds.WindowWidth))
        return Pixels(values, (center - width / 2, center + width / 2), str(path))
    if "VOILUTSequence" in ds:
        bits = int(ds.VOILUTSequence[0].LUTDescriptor[2])
        return Pixels(np.asarray(apply_voi_lut(stored, ds), dtype=np.float32), (0.0, float(2**bits - 1)), str(path))
    bits, signed = int(ds.get("BitsStored", stored.dtype.itemsize * 8)), int(ds.get("PixelRepresentation", 0))
    lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    slope, intercept = float(ds.get("RescaleSlope", 1)), float(ds.get("RescaleIntercept", 0))
    return Pixels(values, (lo * slope + intercept, hi * slope + intercept), str(path))


def read_image(path: Path) -> Pixels:
    """Pixels of one image file, (H, W), (H, W, C) or (D, H, W) for volumes (NIfTI, or a folder holding one
    DICOM series, in HU), at their stored depth."""
    try:
        name = path.name.lower()
        if path.is_dir():
            from .volumes import read_dicom_series

            return Pixels(read_dicom_series(path), None, str(path))
        if name.endswith(".dcm"):
            return _dicom(path)
        if name.endswith((".nii", ".nii.gz")):
            import nibabel

            return Pixels(np.asarray(nibabel.load(str(path)).dataobj), None, str(path))
        return _pil(path)
    except FileNotFoundError as err:
        raise DataError(f"image {path} does not exist") from err
    except DataError:
        raise
    except Exception as err:
        raise DataError(f"cannot read image {path}: {type(err).__name__}: {err}") from err
