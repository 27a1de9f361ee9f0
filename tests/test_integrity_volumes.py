"""Volumes read right or refused: a class-folder tree of DICOM series is one volume per series, a series that is
not one whole series, a non-finite voxel, a 5D array, a cache or batch that cannot fit and a non-finite window
are refused naming the folder, file, array or option; a DICOM-series manifest has a fingerprint."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from truncatedtl.data import (
    DataError,
    Pixels,
    Preprocessing,
    Samples,
    build_cache,
    fingerprint,
    load_data,
    read_image,
)
from truncatedtl.data import cache as cache_module
from truncatedtl.data.transforms import display, preprocess


def write_series(folder: Path, volume: np.ndarray, positions: list[float] | None = None,
                 uids: list[str] | None = None) -> Path:
    """One DICOM file per slice of ``volume`` (D, H, W) int16, slice i at z = ``positions[i]`` (default 2.5 i)
    in series ``uids[i]`` (default one series)."""
    from pydicom import examples

    folder.mkdir(parents=True)
    positions = positions if positions is not None else [2.5 * i for i in range(len(volume))]
    for i, z in enumerate(positions):
        ds = examples.ct.copy()
        ds.Rows, ds.Columns = volume.shape[1:]
        ds.PixelData = volume[i].astype(np.int16).tobytes()
        ds.ImagePositionPatient = [0, 0, float(z)]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.InstanceNumber = i + 1
        ds.SeriesInstanceUID = uids[i] if uids else "1.2.3.4"
        ds.save_as(folder / f"slice{i:03d}.dcm")
    return folder


def _volume(value: int, depth: int = 4) -> np.ndarray:
    return np.full((depth, 8, 8), value, dtype=np.int16) + np.arange(depth, dtype=np.int16)[:, None, None]


def test_a_class_folder_tree_of_dicom_series_is_one_volume_per_series(tmp_path):
    root = tmp_path / "ct"
    for c, base in (("a", 0), ("b", 500)):
        for s in range(5):
            write_series(root / c / f"series{s}", _volume(base + 10 * s))
    data = load_data(root)
    assert data.spatial_dims == 3 and data.classes == ["a", "b"]
    items = [p for split in data.splits().values() for p in split.items]
    assert len(items) == 10 and len(set(items)) == 10 and all(p.is_dir() for p in items)  # 10 volumes, not 40 slices
    assert read_image(data.test.items[0]).array.shape == (4, 8, 8)


def test_a_folder_mixing_2d_images_and_series_is_refused(tmp_path):
    from tests.conftest import write_png

    root = tmp_path / "mixed"
    for c in ("a", "b"):
        write_series(root / c / "series0", _volume(0))
        write_png(root / c / "flat.png", 40)
    with pytest.raises(DataError, match=r"mixes 2D images \(.*flat.png\) and volumes \(.*series0\)"):
        load_data(root)


@pytest.mark.parametrize("positions, uids, fragment", [
    ([0, 2.5, 5, 10, 12.5], None, r"about 1 slice\(s\) missing \(a step of 5 after slice002.dcm where slices lie 2.5"),
    ([0, 2.5, 2.5, 5, 7.5], None, r"slices slice001.dcm and slice002.dcm lie at the same position \(2.5\)"),
    (None, ["1.2.3"] * 3 + ["1.2.9"] * 2, r"mixes 2 series \(SeriesInstanceUID 1.2.3, 1.2.9\)"),
])
def test_a_series_with_missing_duplicate_or_foreign_slices_is_refused_naming_the_folder(tmp_path, positions, uids,
                                                                                         fragment):
    folder = write_series(tmp_path / "broken", _volume(0, 5), positions, uids)
    with pytest.raises(DataError, match=rf"DICOM series folder .*broken.*{fragment}"):
        read_image(folder)


def test_a_nifti_with_one_nan_voxel_is_refused_naming_the_file(tmp_path):
    import nibabel

    volume = np.random.default_rng(0).random((6, 8, 8)).astype(np.float32)
    nibabel.save(nibabel.Nifti1Image(volume, np.eye(4)), tmp_path / "good.nii.gz")
    assert float(display(read_image(tmp_path / "good.nii.gz"), 3).max()) == pytest.approx(255)  # own min-max
    volume[3, 4, 5] = np.nan
    nibabel.save(nibabel.Nifti1Image(volume, np.eye(4)), tmp_path / "v.nii.gz")
    for policy in ("dtype", "minmax", "window:0.5,1"):
        with pytest.raises(DataError, match=r"v.nii.gz holds 1 NaN or infinite value\(s\) \(first at index "
                                            r"\(3, 4, 5\)\)"):
            display(read_image(tmp_path / "v.nii.gz"), 3, policy)


def test_a_dicom_series_manifest_has_a_fingerprint_that_sees_a_changed_slice(tmp_path):
    rows = ["path,label,split"]
    for i in range(6):
        write_series(tmp_path / f"ct{i}", _volume(100 * i))
        rows.append(f"ct{i},{i % 2},{['train', 'val', 'test'][i // 2]}")
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    before = fingerprint(load_data(tmp_path / "m.csv"))
    assert before == fingerprint(load_data(tmp_path / "m.csv"))
    import pydicom

    ds = pydicom.dcmread(tmp_path / "ct4" / "slice001.dcm")
    ds.PixelData = (_volume(7)[1]).tobytes()
    ds.save_as(tmp_path / "ct4" / "slice001.dcm")
    after = fingerprint(load_data(tmp_path / "m.csv"))
    assert [s for s in before["splits"] if before["splits"][s] != after["splits"][s]] == ["test"]


@pytest.mark.parametrize("shape, axis", [((12, 1, 4, 8, 8), 1), ((12, 4, 8, 8, 1), 4)])
def test_5d_arrays_are_refused_naming_the_shape_and_the_axis(tmp_path, shape, axis):
    labels = (np.arange(12) % 2).reshape(-1, 1)
    np.savez(tmp_path / "v.npz", **{f"{s}_{k}": v for s in ("train", "val", "test")
                                    for k, v in (("images", np.zeros(shape, np.uint8)), ("labels", labels))})
    with pytest.raises(DataError, match=rf"train_images has shape {re.escape(str(shape))} \(5D\).*axis {axis} has size "
                                        rf"1: drop it \(numpy.squeeze\(a, axis={axis}\)\)"):
        load_data(tmp_path / "v.npz")


def test_non_finite_array_values_are_refused_naming_the_index(tmp_path):
    images = np.random.default_rng(0).random((12, 8, 8)).astype(np.float32)
    images[7, 2, 2] = np.inf
    labels = (np.arange(12) % 2).reshape(-1, 1)
    np.savez(tmp_path / "f.npz", **{f"{s}_{k}": v for s in ("train", "val", "test")
                                    for k, v in (("images", images), ("labels", labels))})
    with pytest.raises(DataError, match=r"train_images\[7\] holds NaN or infinite values"):
        load_data(tmp_path / "f.npz")


def test_a_3d_image_size_whose_batch_cannot_fit_memory_is_refused_before_work(run_cli, tmp_path):
    code, out, err = run_cli("train", "--data", "synthetic-3d", "--backbone", "resnet18_3d", "--strategy", "ttl",
                             "--cut", "2", "--image-size", "4096", "--batch-size", "2", "--weights", "none",
                             "--out", tmp_path / "r")
    assert code == 2 and "Traceback" not in err, err
    assert "--image-size 4096: one batch of 2 inputs of 4096x4096x4096 needs" in err and "half of this machine" in err
    assert not (tmp_path / "r").exists()


def test_a_cache_that_cannot_fit_is_refused_before_it_is_allocated(tmp_path, monkeypatch):
    samples = load_data("synthetic-3d").train
    prep = Preprocessing(32, 3, (0.5,), (0.5,), 1)
    monkeypatch.setattr(cache_module, "shared_memory_bytes", lambda: 2**20)
    monkeypatch.setattr(cache_module, "RamCache", None)  # never reached
    with pytest.raises(DataError, match=r"--cache ram: 128 items of 1x32x32x32 bytes need 0.0 GiB, more than the 0.0 "
                                        r"GiB of shared memory free here; use --cache disk or none"):
        build_cache("ram", samples, prep, lambda: tmp_path / "cache")
    real = cache_module.shutil.disk_usage
    monkeypatch.setattr(cache_module.shutil, "disk_usage", lambda p: real(p)._replace(free=2**20))
    with pytest.raises(DataError, match=r"--cache disk: 128 items of 1x32x32x32 bytes need .* free in .*cache; use "
                                        r"--cache none or a smaller --image-size"):
        build_cache("auto", samples, prep, lambda: tmp_path / "cache")  # auto: too big for ram, so disk
    assert list((tmp_path / "cache").iterdir()) == []  # no cache file left behind


@pytest.mark.parametrize("window", ["nan,400", "40,inf", "40,-inf"])
def test_a_non_finite_window_is_refused(run_cli, tmp_path, window):
    code, _, err = run_cli("train", "--data", "synthetic-3d", "--backbone", "resnet18_3d", "--strategy", "ttl",
                           "--cut", "2", "--image-size", "16", "--weights", "none", f"--window={window}",
                           "--out", tmp_path / "r")
    assert code == 2 and f"--window '{window}': give the level and width in HU, two finite numbers" in err, err
    with pytest.raises(DataError, match="the values must be finite numbers"):
        display(Pixels(np.zeros((4, 4, 4), np.float32), None), 3, f"window:{window}")


def test_items_of_an_npz_are_named_in_value_refusals():
    pixels = Samples(np.full((2, 8, 8), 2.0, np.float32), np.zeros(2))
    from truncatedtl.data import pixels_of

    with pytest.raises(DataError, match=r"item 1 is a float image with values 2..2"):
        preprocess(pixels_of(pixels, 1), 8, 2)
