"""Intensity policies: how an image's native values map to the model's 0–255 input range, the same in
training and prediction (the policy is part of a run's config).

- ``dtype`` (default): the image's native display range (:class:`~truncatedtl.data.images.Pixels`): 8/16-bit
  integers their full range (12-bit data stored in 16 bits, every value below 4096: 0–4095), floats [0, 1], a
  DICOM its window; where there is none (32/64-bit integers, NIfTI) the image's own min–max. A float image
  with values outside [0, 1] is refused (``minmax`` or ``window:L,W`` reads it).
- ``minmax``: the image's own min–max.
- ``percentile:LO,HI``: the image's LO-th and HI-th percentiles (e.g. ``percentile:0.5,99.5``).
- ``window:L,W``: level L and width W in the image's units (HU for CT: ``window:40,400``).

Values outside the range are clipped. An image holding NaN or infinity is refused under every policy."""

from __future__ import annotations

import math

import numpy as np

from ._types import DataError

INTENSITY_HELP = ("dtype (the bit depth's range; DICOM: its window), minmax, percentile:LO,HI "
                  "(e.g. percentile:0.5,99.5) or window:L,W (e.g. window:40,400 for HU)")


def parse_intensity(policy: str) -> tuple[str, tuple[float, ...]]:
    """``"window:40,400"`` → ``("window", (40.0, 400.0))``; refuses anything else than the four policies."""
    name, _, args = policy.partition(":")
    try:
        values = tuple(float(v) for v in args.split(",")) if args else ()
    except ValueError:
        values = None
    expected = {"dtype": 0, "minmax": 0, "percentile": 2, "window": 2}
    if name not in expected or values is None or len(values) != expected[name]:
        raise DataError(f"--intensity {policy!r}: expected {INTENSITY_HELP}")
    if not all(math.isfinite(v) for v in values):
        raise DataError(f"--intensity {policy!r}: the values must be finite numbers")
    if name == "percentile" and not 0 <= values[0] < values[1] <= 100:
        raise DataError(f"--intensity {policy!r}: percentiles must satisfy 0 <= LO < HI <= 100")
    if name == "window" and not values[1] > 0:
        raise DataError(f"--intensity {policy!r}: the window width must be positive")
    return name, values


# The native range of float images, and how far past it rounding may put a value.
FLOAT_RANGE, FLOAT_SLACK = (0.0, 1.0), 1e-3


def check_values(pixels: np.ndarray, native: tuple[float, float] | None, policy: str, source: str) -> None:
    """Refuse pixels ``policy`` cannot map faithfully, naming ``source``: NaN or infinity (any policy), a float
    image outside [0, 1] under ``dtype`` (it would be clipped)."""
    if pixels.dtype.kind not in "fc":
        return
    finite = np.isfinite(pixels)
    if not finite.all():
        bad = int(finite.size - np.count_nonzero(finite))
        raise DataError(f"{source} holds {bad} NaN or infinite value(s) (first at index "
                        f"{tuple(int(i) for i in np.argwhere(~finite)[0])}); fix or drop the file")
    lo, hi = float(pixels.min()), float(pixels.max())
    if policy == "dtype" and native == FLOAT_RANGE and (lo < -FLOAT_SLACK or hi > 1 + FLOAT_SLACK):
        raise DataError(f"{source} is a float image with values {lo:.4g}..{hi:.4g}, outside the [0, 1] that "
                        f"--intensity dtype reads floats on (they would be clipped); pass --intensity minmax, "
                        f"or window:L,W for values in known units (HU: window:40,400)")


def intensity_range(pixels: np.ndarray, native: tuple[float, float] | None, policy: str) -> tuple[float, float]:
    """The ``(lo, hi)`` that ``policy`` maps to 0 and 255 for ``pixels`` (any shape) of native range
    ``native``."""
    name, values = parse_intensity(policy)
    if name == "window":
        return values[0] - values[1] / 2, values[0] + values[1] / 2
    if name == "percentile":
        lo, hi = np.percentile(pixels, values)
        return float(lo), float(hi)
    if name == "dtype" and native is not None:
        return native
    return float(pixels.min()), float(pixels.max())


def to_display(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Values of any shape mapped linearly from [lo, hi] to [0, 255] (float32, clipped); 8-bit data on
    [0, 255] passes unchanged."""
    if x.dtype == np.uint8 and (lo, hi) == (0.0, 255.0):
        return x.astype(np.float32)
    scale = 255.0 / max(hi - lo, 1e-12)
    return np.clip((x.astype(np.float32) - np.float32(lo)) * np.float32(scale), 0, 255)
