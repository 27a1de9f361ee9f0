"""Deploying a 3D run: ONNX export checked against PyTorch, and predict on NIfTI files, DICOM series folders and
3D ``.npz`` arrays with the run's intensity window and whole-volume resampling, exactly as evaluation."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from truncatedtl.backbones import load_backbone
from truncatedtl.data import DataError, load_data
from truncatedtl.deploy import collect_inputs, export_run, predict_run, read_metadata, run_metadata
from truncatedtl.engine import Prepared, RunConfig, save_run, train
from truncatedtl.engine import predict as evaluate_probabilities

# A CT-style window that clips part of the synthetic volumes' 0–255 range: predict must apply it as training did.
WINDOW = "window:140,120"


@pytest.fixture(scope="module")
def volume_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """resnet18_3d cut 2, 16³, one epoch on 32 synthetic-3d volumes, windowed."""
    config = RunConfig(data="synthetic-3d", backbone="resnet18_3d", strategy="ttl", cut=2, image_size=16,
                       max_epochs=1, limit=32, weights="none", intensity=WINDOW, batch_size=8)
    return save_run(train(config), tmp_path_factory.mktemp("deploy3d") / "run")


@pytest.fixture(scope="module")
def volumes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    """Four synthetic-3d test volumes (32³ uint8) as every split of a MedMNIST-style ``.npz``."""
    test = load_data("synthetic-3d").test
    images, labels = test.items[:4], test.labels[:4].reshape(4, 1)
    path = tmp_path_factory.mktemp("vol") / "set.npz"
    np.savez(path, **{f"{split}_{key}": value for split in ("train", "val", "test")
                      for key, value in (("images", images), ("labels", labels))})
    return path, images


def write_series(folder: Path, volume: np.ndarray) -> None:
    """One DICOM file per slice (int16, no rescale), written in reverse order; position along z orders them."""
    from pydicom import examples

    folder.mkdir(parents=True)
    for z in reversed(range(len(volume))):
        ds = examples.ct.copy()
        ds.Rows, ds.Columns = volume.shape[1:]
        ds.PixelData = volume[z].astype(np.int16).tobytes()
        ds.ImagePositionPatient = [0, 0, float(z)]
        ds.RescaleSlope, ds.RescaleIntercept = 1, 0
        ds.save_as(folder / f"s{z:02d}.dcm")


def test_onnx_export_of_a_3d_model_matches_pytorch(volume_run: Path, tmp_path: Path) -> None:
    exported = export_run(volume_run, "onnx", tmp_path / "m.onnx", dynamic_batch=True)
    assert exported.max_abs_diff < 1e-4
    metadata = read_metadata(exported.path)
    assert metadata.spatial_dims == 3 and metadata.input_shape == (3, 16, 16, 16) and metadata.intensity == WINDOW


def test_predict_npz_equals_evaluation(volume_run: Path, volumes: tuple[Path, np.ndarray]) -> None:
    """The windowed, resampled inputs predict feeds give the probabilities the training engine computes."""
    npz, _ = volumes
    config = RunConfig(data=str(npz), backbone="resnet18_3d", strategy="ttl", cut=2, image_size=16,
                       intensity=WINDOW, batch_size=4)
    model, _ = run_metadata(volume_run)
    prepared = Prepared(load_data(npz), load_backbone("resnet18_3d"))
    expected, _ = evaluate_probabilities(model, prepared.loader("test", config), "binary")
    got = predict_run(volume_run, [npz])
    assert got.names == [f"{npz}:test_images[{i}]" for i in range(4)]
    assert np.abs(got.probabilities - expected.numpy()).max() < 1e-6


def test_nifti_dicom_and_npz_give_the_same_rows(volume_run: Path, volumes: tuple[Path, np.ndarray],
                                                tmp_path: Path, run_cli) -> None:
    import nibabel

    npz, images = volumes
    folder = tmp_path / "in"
    folder.mkdir()
    nibabel.save(nibabel.Nifti1Image(images[0].astype(np.int16), np.eye(4)), folder / "a.nii.gz")
    write_series(folder / "b", images[1])
    write_series(tmp_path / "series", images[2])
    assert [p.name for p in collect_inputs([folder], 3)[0].samples.items] == ["a.nii.gz", "b"]

    export_run(volume_run, "onnx")
    by_npz = predict_run(volume_run, [npz]).probabilities
    for onnx in ("", "--onnx"):
        out = tmp_path / f"p{onnx}.csv"
        code, _, err = run_cli("predict", volume_run, folder, tmp_path / "series", "--out", out,
                               *([onnx] if onnx else []))
        assert code == 0, err
        with open(out, newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == ["input", "plain", "textured"]
        assert [r[0] for r in rows[1:]] == [str(folder / "a.nii.gz"), str(folder / "b"), str(tmp_path / "series")]
        got = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
        assert np.abs(got - by_npz[:3]).max() < 1e-4


def test_a_folder_without_volumes_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(DataError, match="holds no volumes"):
        collect_inputs([tmp_path / "empty"], 3)
