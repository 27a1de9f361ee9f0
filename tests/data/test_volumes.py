"""Volumes: synthetic-3d, DICOM series and NIfTI manifests, CT window, augmentation, volumes end to end."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from truncatedtl.data import DataError, Pixels, Samples, load_data
from truncatedtl.data.dataset import pixels_of
from truncatedtl.data.transforms import augment, preprocess, random_affine


def test_synthetic_3d_is_balanced_reproducible_and_3d():
    data = load_data("synthetic-3d", seed=1)
    assert data.spatial_dims == 3 and data.train.items.shape == (128, 32, 32, 32)
    assert np.bincount(data.test.labels).tolist() == [24, 24]
    assert np.array_equal(load_data("synthetic-3d", seed=1).val.items, data.val.items)
    # the label is a texture: positives vary more between neighbouring voxels
    rough = [np.abs(np.diff(data.train.items[data.train.labels == c].astype(float), axis=3)).mean() for c in (0, 1)]
    assert rough[1] > rough[0]


def _series(folder: Path, volume: np.ndarray, slope: float, intercept: float) -> None:
    """One DICOM file per slice, written in shuffled order; position along z gives the true order."""
    from pydicom import examples

    folder.mkdir(parents=True)
    for i in np.random.default_rng(0).permutation(len(volume)):
        ds = examples.ct.copy()
        ds.Rows, ds.Columns = volume.shape[1:]
        ds.PixelData = volume[i].astype(np.int16).tobytes()
        ds.ImagePositionPatient = [0, 0, float(i) * 2.5]
        ds.InstanceNumber = int(len(volume) - i)
        ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
        ds.save_as(folder / f"slice{i:03d}.dcm")


def test_dicom_series_folders_and_nifti_files_in_a_manifest(tmp_path):
    import nibabel

    rows = ["path,label,split"]
    for i in range(6):
        volume = np.full((5, 8, 8), 100 * i, dtype=np.int16) + np.arange(5, dtype=np.int16)[:, None, None]
        split = ["train", "val", "test"][i % 3]
        if i < 3:
            _series(tmp_path / f"ct{i}", volume, slope=2.0, intercept=-1024.0)
            rows.append(f"ct{i},{i // 3},{split}")
        else:
            nibabel.save(nibabel.Nifti1Image(volume, np.eye(4)), tmp_path / f"v{i}.nii.gz")
            rows.append(f"v{i}.nii.gz,{i // 3},{split}")
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    data = load_data(tmp_path / "m.csv")
    assert data.spatial_dims == 3 and data.classes == ["0", "1"]
    from truncatedtl.data import read_image

    series = read_image(tmp_path / "ct1").array
    assert series.shape == (5, 8, 8)
    assert series[:, 0, 0].tolist() == [2 * (100 + z) - 1024 for z in range(5)]  # HU, ordered by position
    cubes = [preprocess(pixels_of(data.train, i), 4, 3, "window:-800,400") for i in range(len(data.train))]
    assert all(c.shape == (1, 4, 4, 4) and c.dtype == torch.uint8 for c in cubes)


def test_ct_window_clips_and_scales_hu(run_cli, tmp_path):
    hu = np.linspace(-1200, 400, 16, dtype=np.float32)[:, None, None] * np.ones((16, 16, 16), np.float32)
    cube = preprocess(Pixels(hu, None), 16, 3, "window:-600,1000")[0, :, 0, 0]
    assert cube[0] == 0 and cube[-1] == 255  # below −1100 and above −100 HU: clipped
    assert 0 < cube[6] < 255
    code, _, err = run_cli("train", "--data", "synthetic-3d", "--backbone", "resnet18_3d", "--strategy", "ttl",
                           "--cut", "2", "--window", "-600", "--weights", "none", "--out", tmp_path / "run")
    assert code == 2 and "window" in err and not (tmp_path / "run").exists()


def test_augmentation_keeps_shape_and_follows_the_torch_seed():
    volume = preprocess(Pixels(np.random.default_rng(0).random((20, 24, 28)).astype(np.float32), None), 16, 3)
    torch.manual_seed(3)
    a = augment(volume)
    torch.manual_seed(3)
    b = augment(volume)
    assert a.shape == (1, 16, 16, 16) and type(a) is torch.Tensor
    assert torch.equal(a, b) and not torch.equal(a, volume.float())


def test_volume_augmentation_is_one_affine_of_crop_flips_and_small_rotations():
    torch.manual_seed(0)
    thetas = torch.cat([random_affine(3) for _ in range(200)])
    linear = thetas[:, :, :3]
    scales = linear.norm(dim=1)  # column norms: the crop scale of each axis (rotations keep lengths)
    assert thetas.shape == (200, 3, 4) and scales.min() >= 0.8 - 1e-6 and scales.max() <= 1 + 1e-6
    flipped = torch.linalg.det(linear) < 0
    assert 0.3 < flipped.float().mean() < 0.7  # an odd number of flips: half the draws
    axis = linear / scales[:, None, :]
    cosines = axis.diagonal(dim1=1, dim2=2).abs()
    assert cosines.min() > math.cos(15 * math.pi / 180)  # three turns of at most 5° each
    assert (thetas[:, :, 3].abs() <= 1 - scales + 1e-6).all()
    cube = torch.arange(8 ** 3, dtype=torch.float32).view(1, 8, 8, 8)
    identity = torch.cat([torch.eye(3), torch.zeros(3, 1)], 1)[None]
    assert torch.allclose(augment(cube.to(torch.uint8), identity), cube.to(torch.uint8).float())


def test_volumes_train_end_to_end_and_refuse_a_2d_backbone(run_cli, tmp_path):
    code, out, _ = run_cli("train", "--data", "synthetic-3d", "--backbone", "resnet18", "--inflate", "--strategy",
                           "tf", "--cut", "3", "--image-size", "16", "--max-epochs", "1", "--limit", "16",
                           "--weights", "none", "--out", tmp_path / "tf")
    assert code == 0, out
    assert (tmp_path / "tf" / "result.json").is_file()
    from truncatedtl.engine import RunConfig, prepare

    with pytest.raises(DataError, match="--inflate"):
        prepare(RunConfig(data="synthetic-3d", backbone="resnet18", strategy="ttl", cut=2, weights="none"))


def test_samples_of_a_folder_of_volumes(tmp_path):
    import nibabel

    for c in ("a", "b"):
        for i in range(5):
            (tmp_path / c).mkdir(exist_ok=True)
            nibabel.save(nibabel.Nifti1Image(np.zeros((4, 4, 4), np.int16) + i, np.eye(4)), tmp_path / c / f"{i}.nii")
    assert load_data(tmp_path).spatial_dims == 3
    assert isinstance(load_data(tmp_path).train, Samples)
