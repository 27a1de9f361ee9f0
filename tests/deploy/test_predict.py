"""``predict``: one row per input, probabilities that sum to 1, the evaluation's preprocessing, clear errors."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import write_png
from torch import nn

from truncatedtl.backbones import load_backbone
from truncatedtl.data import load_data
from truncatedtl.deploy import (
    Metadata,
    TorchRuntime,
    collect_inputs,
    export_run,
    model_inputs,
    predict,
    predict_run,
    run_metadata,
)
from truncatedtl.engine import Prepared, RunConfig
from truncatedtl.engine import predict as evaluate_probabilities


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def write_npz(path: Path, n: int = 6) -> Path:
    """A MedMNIST-style file: 28×28 gray images and labels for each split."""
    rng = np.random.default_rng(0)
    arrays = {}
    for split in ("train", "val", "test"):
        arrays[f"{split}_images"] = (rng.random((n, 28, 28)) * 255).astype(np.uint8)
        arrays[f"{split}_labels"] = (np.arange(n) % 2).reshape(n, 1)
    np.savez(path, **arrays)
    return path


def test_folder_of_pngs(trained_run: Path, tmp_path: Path, run_cli) -> None:
    folder = tmp_path / "images"
    paths = [write_png(folder / f"{i}.png", 40 * i, size=30 + 7 * i) for i in range(3)]
    paths.append(write_png(folder / "nested" / "rgb.png", 90, rgb=True))
    code, _, err = run_cli("predict", trained_run, folder, "--out", tmp_path / "p.csv")
    assert code == 0, err
    header, rows = read_rows(tmp_path / "p.csv")
    assert header == ["input", "plain", "textured"]
    assert [r[0] for r in rows] == sorted(str(p) for p in paths)
    assert np.allclose([sum(map(float, r[1:])) for r in rows], 1, atol=1e-5)


def test_npz_rows_and_stdout(trained_run: Path, tmp_path: Path, run_cli) -> None:
    npz = write_npz(tmp_path / "set.npz", n=5)
    code, out, err = run_cli("predict", trained_run, npz)
    assert code == 0, err
    rows = list(csv.reader(out.splitlines()))[1:]
    assert [r[0] for r in rows] == [f"{npz}:test_images[{i}]" for i in range(5)]
    assert np.allclose([sum(map(float, r[1:])) for r in rows], 1, atol=1e-5)


def test_same_preprocessing_as_evaluation(trained_run: Path, tmp_path: Path) -> None:
    """The probabilities of an npz's test split equal those the training engine computes on that split."""
    npz = write_npz(tmp_path / "set.npz")
    model, _ = run_metadata(trained_run)
    config = RunConfig(data=str(npz), backbone="resnet18", strategy="ttl", cut=2, image_size=32, batch_size=4)
    prepared = Prepared(load_data(npz), load_backbone("resnet18"))
    expected, _ = evaluate_probabilities(model, prepared.loader("test", config), "binary")
    got = predict_run(trained_run, [npz]).probabilities
    assert np.abs(got - expected.numpy()).max() < 1e-6


def test_onnx_agrees_with_pytorch(run_copy: Path, tmp_path: Path, run_cli) -> None:
    export_run(run_copy, "onnx")
    folder = tmp_path / "images"
    for i in range(3):
        write_png(folder / f"{i}.png", 50 * i)
    assert run_cli("predict", run_copy, folder, "--onnx", "--out", tmp_path / "onnx.csv")[0] == 0
    assert run_cli("predict", run_copy, folder, "--out", tmp_path / "torch.csv")[0] == 0
    onnx_rows, torch_rows = read_rows(tmp_path / "onnx.csv")[1], read_rows(tmp_path / "torch.csv")[1]
    assert np.allclose(np.array(onnx_rows)[:, 1:].astype(float), np.array(torch_rows)[:, 1:].astype(float),
                       atol=1e-4)


def test_multilabel_probabilities_are_sigmoids(tmp_path: Path) -> None:
    metadata = Metadata(backbone="resnet18", strategy="ttl", cut=0, image_size=8, spatial_dims=2, in_chans=3,
                        mean=[0.5] * 3, std=[0.5] * 3, classes=["a", "b", "c"], task="multilabel")
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 3))
    inputs = collect_inputs([write_png(tmp_path / "x.png", 10), write_png(tmp_path / "y.png", 200)], 2)
    got = predict(TorchRuntime(model), metadata, inputs).probabilities
    expected = torch.sigmoid(model(torch.from_numpy(model_inputs(inputs[0].samples, metadata)))).detach().numpy()
    assert np.allclose(got, expected, atol=1e-6)


def test_unreadable_image_names_the_file(trained_run: Path, tmp_path: Path, run_cli) -> None:
    good = write_png(tmp_path / "good.png", 10)
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png")
    code, _, err = run_cli("predict", trained_run, good, bad, "--out", tmp_path / "p.csv")
    assert code == 1 and f"cannot read image {bad}" in err
    assert [r[0] for r in read_rows(tmp_path / "p.csv")[1]] == [str(good)]


@pytest.mark.parametrize(("make", "message"), [
    (lambda d: d / "missing.png", "does not exist"),
    (lambda d: (d / "empty").mkdir() or d / "empty", "holds no image files"),
    (lambda d: np.savez(d / "other.npz", a=np.zeros(2), b=np.zeros(2)) or d / "other.npz", "predict reads the array"),
    (lambda d: np.savez(d / "flat.npz", images=np.zeros(4)) or d / "flat.npz", "has shape (4,)"),
])
def test_bad_inputs_are_clear_errors(trained_run: Path, tmp_path: Path, run_cli, make, message: str) -> None:
    path = make(tmp_path)
    code, _, err = run_cli("predict", trained_run, path)
    assert code == 2 and message in err and str(path) in err


def test_onnx_without_export(run_copy: Path, tmp_path: Path, run_cli) -> None:
    code, _, err = run_cli("predict", run_copy, write_png(tmp_path / "x.png", 10), "--onnx")
    assert code == 2 and "ttl export" in err


def test_bf16_prediction_is_close_to_float32(trained_run: Path, tmp_path: Path, run_cli) -> None:
    folder = tmp_path / "images"
    for i in range(3):
        write_png(folder / f"{i}.png", 60 * i)
    assert run_cli("predict", trained_run, folder, "--out", tmp_path / "fp32.csv")[0] == 0
    code, _, err = run_cli("predict", trained_run, folder, "--precision", "bf16-mixed", "--out", tmp_path / "bf16.csv")
    assert code == 0, err
    fp32, bf16 = (np.array(read_rows(tmp_path / f"{n}.csv")[1])[:, 1:].astype(float) for n in ("fp32", "bf16"))
    assert np.abs(fp32 - bf16).max() < 0.05


@pytest.mark.parametrize(("args", "message"), [
    (["--cuda-graph"], "--cuda-graph captures the model in a CUDA graph, which needs a GPU"),
    (["--precision", "16-mixed"], "--precision 16-mixed needs a GPU"),
    (["--onnx", "--precision", "bf16-mixed"], "the ONNX model runs as exported"),
])
def test_gpu_serving_options_are_clear_errors_on_cpu(trained_run: Path, tmp_path: Path, run_cli, args: list[str],
                                                     message: str) -> None:
    if torch.cuda.is_available() and "--onnx" not in args:
        pytest.skip("a CUDA GPU is present: these options run")
    code, _, err = run_cli("predict", trained_run, write_png(tmp_path / "x.png", 10), *args)
    assert code == 2 and message in err


def test_onnx_on_a_gpu_falls_back_to_the_cpu_provider_with_a_note() -> None:
    import onnxruntime

    from truncatedtl.deploy.runtime import onnx_providers

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        assert onnx_providers("cuda:1")[0][0] == ("CUDAExecutionProvider", {"device_id": 1})
    else:
        assert onnx_providers("cuda") == (["CPUExecutionProvider"], onnx_providers("cuda")[1])
        assert "pip install onnxruntime-gpu" in onnx_providers("cuda")[1]
    assert onnx_providers("cpu") == (["CPUExecutionProvider"], None)
