"""Intensities and labels read right or refused: a float image outside [0, 1] is refused under ``dtype`` (with
the policies that read it), 12-bit data stored in 16 bits is read on its 12 bits, and labels or class folders
that differ only in case or surrounding spaces are refused naming both spellings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import write_png
from truncatedtl.data import DataError, load_data, read_image
from truncatedtl.data.transforms import display


def _float_tiff(path: Path, values: np.ndarray) -> Path:
    Image.fromarray(values.astype(np.float32), mode="F").save(path)
    return path


@pytest.mark.parametrize("lo, hi", [(0.0, 225.0), (-1000.0, 1000.0)])
def test_a_float_image_outside_0_1_is_refused_under_dtype_naming_the_file(tmp_path, lo, hi):
    path = _float_tiff(tmp_path / "scan.tif", np.linspace(lo, hi, 64).reshape(8, 8))
    pixels = read_image(path)
    assert pixels.array.dtype == np.float32 and pixels.range == (0.0, 1.0)
    with pytest.raises(DataError, match=rf"scan.tif is a float image with values {lo:g}..{hi:g}, outside the \[0, 1\] "
                                        r"that --intensity dtype reads floats on .*pass --intensity minmax, or "
                                        r"window:L,W"):
        display(pixels, 2)
    stretched = display(pixels, 2, "minmax")[0]
    assert float(stretched.min()) == 0 and float(stretched.max()) == pytest.approx(255)
    assert float(stretched[4, 0]) == pytest.approx(255 * 32 / 63, abs=1e-3)  # a linear map, not clipped


def test_a_float_image_inside_0_1_is_read_as_it_is(tmp_path):
    path = _float_tiff(tmp_path / "ok.tif", np.linspace(0, 1, 64).reshape(8, 8))
    assert float(display(read_image(path), 2)[0, 4, 0]) == pytest.approx(255 * 32 / 63, abs=1e-3)


def test_12_bit_data_in_a_16_bit_png_is_read_on_its_12_bits(tmp_path):
    stored = (np.arange(64).reshape(8, 8) * 65).astype(np.uint16)  # 0 .. 4095
    Image.fromarray(stored).save(tmp_path / "xray.png")
    pixels = read_image(tmp_path / "xray.png")
    assert pixels.array.dtype == np.uint16 and pixels.range == (0.0, 4095.0)
    shown = display(pixels, 2)[0]
    assert float(shown.max()) == 255 and float(shown[4, 0]) == pytest.approx(255 * 2080 / 4095, abs=1e-3)
    wide = stored.astype(np.uint32) * 16  # 16-bit data: its full range
    Image.fromarray(wide.astype(np.uint16)).save(tmp_path / "wide.png")
    assert read_image(tmp_path / "wide.png").range == (0.0, 65535.0)


def _manifest(tmp_path: Path, labels: list[str]) -> Path:
    rows = ["path,label"]
    for i, label in enumerate(labels):
        rows.append(f"{write_png(tmp_path / f'{i}.png', 10 * i, size=16).name},{label}")
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    return tmp_path / "m.csv"


def test_a_csv_label_with_a_trailing_space_is_refused_naming_both_spellings(tmp_path):
    labels = ["NORMAL", "PNEUMONIA"] * 6
    labels[7] = "NORMAL "
    with pytest.raises(DataError, match=r"m.csv row 9: label 'NORMAL ' differs from 'NORMAL' \(row 2\) only in "
                                        r"surrounding spaces; labels are compared exactly"):
        load_data(_manifest(tmp_path, labels))


def test_class_folders_that_differ_only_in_case_are_refused_naming_both(tmp_path):
    for c in ("NORMAL", "normal", "PNEUMONIA"):
        for i in range(5):
            write_png(tmp_path / "xr" / c / f"{i}.png", 40 * i, size=16)
    with pytest.raises(DataError, match=r"xr: class folder 'normal' differs from 'NORMAL' only in case; class folders "
                                        r"are compared exactly"):
        load_data(tmp_path / "xr")
    (tmp_path / "xr" / "normal").rename(tmp_path / "xr" / " NORMAL")
    with pytest.raises(DataError, match=r"class folder 'NORMAL' differs from ' NORMAL' only in surrounding spaces"):
        load_data(tmp_path / "xr")
