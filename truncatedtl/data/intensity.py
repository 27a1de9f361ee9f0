"""Intensity policies: how an image's native values map to the model's 0–255 input range, the same in
training and prediction (the policy is part of a run's config).

- ``dtype`` (default): the image's native display range (:class:`~truncatedtl.data.images.Pixels`): 8/16-bit
  integers their full range, floats [0, 1], a DICOM its window; where there is none (32/64-bit integers,
  NIfTI) the image's own min–max.
- ``minmax``: the image's own min–max.
- ``percentile:LO,HI``: the image's LO-th and HI-th percentiles (e.g. ``percentile:0.5,99.5``).
- ``window:L,W``: level L and width W in the image's units (HU for CT: ``window:40,400``).

Values outside the range are clipped."""

from __future__ import annotations

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
    if name == "percentile" and not 0 <= values[0] < values[1] <= 100:
        raise DataError(f"--intensity {policy!r}: percentiles must satisfy 0 <= LO < HI <= 100")
    if name == "window" and not values[1] > 0:
        raise DataError(f"--intensity {policy!r}: the window width must be positive")
    return name, values


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
