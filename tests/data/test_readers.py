"""Readers and splits: npz, ImageFolder, CSV (single and multi-label), synthetic; clear errors."""

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import write_png
from truncatedtl.data import DataError, Samples, load_data, pixels_of
from truncatedtl.data.transforms import preprocess


def images(samples: Samples, size: int, dims: int):
    """Every item of ``samples`` preprocessed, uint8 (N, C, *spatial)."""
    import torch

    return torch.stack([preprocess(pixels_of(samples, i), size, dims) for i in range(len(samples))])

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def test_folder_without_splits_is_split_64_16_20_stratified(image_folder):
    data = load_data(image_folder, seed=3)
    assert [len(s) for s in data.splits().values()] == [26, 6, 8]
    for samples in data.splits().values():
        assert np.bincount(samples.labels).tolist()[0] == np.bincount(samples.labels).tolist()[1]
    everything = sorted(map(str, data.train.items + data.val.items + data.test.items))
    assert len(set(everything)) == 40
    assert load_data(image_folder, seed=3).test.items == data.test.items


def test_folder_with_train_test_carves_val_from_train(tmp_path):
    for split, n in (("train", 10), ("test", 4)):
        for c, base in (("NORMAL", 10), ("PNEUMONIA", 150)):
            for i in range(n):
                write_png(tmp_path / split / c / f"{i}.png", base + i, rgb=True)
    data = load_data(tmp_path)
    assert data.classes == ["NORMAL", "PNEUMONIA"]
    assert [len(s) for s in data.splits().values()] == [16, 4, 8]
    assert any("carved" in note for note in data.notes)


def test_csv_multilabel_with_own_splits(tmp_path):
    rows = ["path,effusion,nodule,split"]
    for i in range(12):
        write_png(tmp_path / "img" / f"{i}.png", 10 * i)
        rows.append(f"img/{i}.png,{i % 2},{(i // 2) % 2},{['train', 'val', 'test'][i % 3]}")
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    data = load_data(tmp_path / "m.csv")
    assert data.kind == "multilabel" and data.classes == ["effusion", "nodule"]
    assert data.train.labels.shape == (4, 2)


def test_csv_errors_name_the_row(tmp_path):
    write_png(tmp_path / "a.png", 10)
    (tmp_path / "m.csv").write_text("path,label\na.png,x\nmissing.png,y\n")
    with pytest.raises(DataError, match=r"m.csv row 3: image missing.png does not exist"):
        load_data(tmp_path / "m.csv")
    (tmp_path / "n.csv").write_text("path,label\na.png,\n")
    with pytest.raises(DataError, match=r"n.csv row 2: label missing"):
        load_data(tmp_path / "n.csv")


def test_unreadable_image_is_named(image_folder):
    bad = image_folder / "a" / "0.png"
    bad.write_bytes(b"not an image")
    data = load_data(image_folder)
    split = next(s for s in data.splits().values() if bad in s.items)
    with pytest.raises(DataError, match=r"cannot read image .*a/0.png"):
        images(split, 32, 2)


def test_split_with_one_class_only_is_refused(tmp_path):
    for split, classes in (("train", ("a", "b")), ("test", ("a",))):
        for c in classes:
            for i in range(5):
                write_png(tmp_path / split / c / f"{i}.png", 40 * i)
    (tmp_path / "test" / "b").mkdir()
    with pytest.raises(DataError, match=r"split 'test' .* one class only \(a\)"):
        load_data(tmp_path)


def test_limit_keeps_every_class_and_proportions():
    data = load_data("synthetic", limit=20)
    for samples in data.splits().values():
        assert len(samples) == 20 and np.bincount(samples.labels).tolist() == [10, 10]


def test_synthetic_is_reproducible_and_balanced():
    a, b = load_data("synthetic", seed=1), load_data("synthetic", seed=1)
    assert np.array_equal(a.train.items, b.train.items)
    assert a.train.items.shape[1:] == (64, 64) and a.train.labels.mean() == 0.5


@pytest.mark.skipif(not (SHARED / "pneumoniamnist").is_dir(), reason="shared data not present")
def test_medmnist_npz_keeps_its_own_splits():
    data = load_data(SHARED / "pneumoniamnist" / "pneumoniamnist.npz")
    assert [len(s) for s in data.splits().values()] == [3882, 524, 624]
    assert data.spatial_dims == 2 and data.kind == "binary"
    assert images(data.val.subset(np.arange(4)), 64, 2).shape == (4, 1, 64, 64)


@pytest.mark.skipif(not (SHARED / "vesselmnist3d").is_dir(), reason="shared data not present")
def test_medmnist_3d_npz_is_volumetric():
    data = load_data(SHARED / "vesselmnist3d" / "vesselmnist3d.npz")
    assert data.spatial_dims == 3 and len(data.val) == 191
    assert images(data.val.subset(np.arange(2)), 16, 3).shape == (2, 1, 16, 16, 16)


def test_npz_missing_arrays(tmp_path):
    np.savez(tmp_path / "x.npz", train_images=np.zeros((2, 8, 8), np.uint8))
    with pytest.raises(DataError, match="lacks the arrays .*train_labels"):
        load_data(tmp_path / "x.npz")


def test_dicom_and_nifti_images_are_read(tmp_path):
    import nibabel
    from pydicom import examples

    from truncatedtl.data import read_image

    ct = read_image(Path(examples.get_path("ct"))).array
    assert ct.shape == (128, 128) and ct.std() > 0
    volume = np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6)
    nibabel.save(nibabel.Nifti1Image(volume, np.eye(4)), tmp_path / "v.nii.gz")
    assert np.array_equal(read_image(tmp_path / "v.nii.gz").array, volume)
    ct_image = images(Samples([Path(examples.get_path("ct"))], np.array([0])), 32, 2)
    assert ct_image.shape == (1, 1, 32, 32) and ct_image.dtype.is_floating_point is False
