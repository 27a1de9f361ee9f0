"""Exports give PyTorch's outputs, carry their metadata, and are written whole or not at all."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from truncatedtl.deploy import TorchRuntime, export_run, load_runtime, run_metadata
from truncatedtl.deploy import export as export_module


@pytest.mark.parametrize(("model_format", "dynamic_batch", "batch"),
                         [("onnx", False, 1), ("onnx", True, 3), ("torchscript", False, 3)])
def test_export_matches_pytorch(trained_run: Path, tmp_path: Path, model_format: str, dynamic_batch: bool,
                                batch: int) -> None:
    out = tmp_path / ("model.onnx" if model_format == "onnx" else "model.pt")
    exported = export_run(trained_run, model_format, out, dynamic_batch)
    model, metadata = run_metadata(trained_run)
    x = np.random.default_rng(1).standard_normal((batch, *metadata.input_shape), dtype=np.float32)
    expected = TorchRuntime(model)(x)
    assert np.abs(load_runtime(exported.path)(x) - expected).max() < 1e-4
    assert exported.max_abs_diff < 1e-4


def test_metadata_beside_the_export(run_copy: Path, run_cli) -> None:
    code, _, err = run_cli("export", run_copy, "--format", "onnx", "--dynamic-batch")
    assert code == 0, err
    card = json.loads((run_copy / "model.onnx.json").read_text())
    result = json.loads((run_copy / "result.json").read_text())
    assert (run_copy / "model.onnx").is_file()
    assert card["image_size"] == 32 and card["spatial_dims"] == 2 and card["input_shape"] == [3, 32, 32]
    assert card["classes"] == result["classes"] and card["task"] == result["task"]
    assert card["mean"] == pytest.approx([0.485, 0.456, 0.406]) and card["std"] == pytest.approx([0.229, 0.224, 0.225])
    assert (card["backbone"], card["strategy"], card["cut"]) == ("resnet18", "ttl", 2)
    assert card["format"] == "onnx" and card["dynamic_batch"] is True


def test_torchscript_default_path(run_copy: Path, run_cli) -> None:
    code, _, err = run_cli("export", run_copy, "--format", "torchscript")
    assert code == 0, err
    assert (run_copy / "model.pt").is_file() and (run_copy / "model.pt.json").is_file()


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "tflite"], "unknown export format 'tflite'"),
    (["--format", "onnx", "--out", "{run}/model.bin"], "must end in .onnx"),
])
def test_bad_options_are_clear_errors(run_copy: Path, run_cli, args: list[str], message: str) -> None:
    before = sorted(p.name for p in run_copy.iterdir())
    code, _, err = run_cli("export", run_copy, *(a.format(run=run_copy) for a in args))
    assert code == 2 and message in err
    assert sorted(p.name for p in run_copy.iterdir()) == before


def test_not_a_run_directory(tmp_path: Path, run_cli) -> None:
    code, _, err = run_cli("export", tmp_path)
    assert code == 2 and f"{tmp_path} is not a run directory" in err


def test_unfaithful_export_writes_nothing(run_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_module, "MAX_DIFF", -1.0)
    before = sorted(p.name for p in run_copy.iterdir())
    with pytest.raises(export_module.ExportError, match="nothing written"):
        export_run(run_copy, "onnx")
    assert sorted(p.name for p in run_copy.iterdir()) == before


def test_int8_export_reports_test_scores_and_latency_against_float(run_copy: Path, run_cli) -> None:
    # no --calibration: the run's own training split (its --data, here the built-in synthetic set)
    code, out, err = run_cli("export", run_copy, "--int8", "--calibration-limit", "16")
    assert code == 0, err
    report = json.loads((run_copy / "model.int8.onnx.report.json").read_text())
    test, latency = report["test"], report["latency"]
    assert report["calibration"]["images"] == 16 and test["samples"] > 0
    for metric in ("auroc", "auprc", "accuracy"):
        assert 0 <= test["int8"][metric] <= 1 and test["delta"][metric] == pytest.approx(
            test["int8"][metric] - test["float"][metric])
    assert abs(test["delta"]["auroc"]) < 0.1
    low, high = latency["ratio_spread"]
    assert latency["float_ms"] > 0 and latency["int8_ms"] > 0 and low <= latency["ratio"] <= high
    assert "delta" in out and "ratio" in out
    model, metadata = run_metadata(run_copy)
    x = np.random.default_rng(2).standard_normal((3, *metadata.input_shape), dtype=np.float32)
    int8 = load_runtime(run_copy / "model.int8.onnx")(x)
    assert int8.shape == (3, 2) and np.abs(int8 - TorchRuntime(model)(x)).max() < 0.5


def test_int8_refuses_a_layer_left_in_float_and_names_it(trained_run: Path, tmp_path: Path) -> None:
    import onnx

    from truncatedtl.deploy.export import to_onnx
    from truncatedtl.deploy.quantize import QuantizationError, quantize_onnx

    model, metadata = run_metadata(trained_run)
    float_file = tmp_path / "float.onnx"
    to_onnx(model, metadata.input_shape, float_file, dynamic_batch=True)
    conv = next(n.name for n in onnx.load(float_file).graph.node if n.op_type == "Conv")
    calibration = np.zeros((2, *metadata.input_shape), dtype=np.float32)
    with pytest.raises(QuantizationError, match="cannot be quantized to int8"):
        quantize_onnx(float_file, tmp_path / "q.onnx", calibration, nodes_to_exclude=(conv,))
    assert not (tmp_path / "q.onnx").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--calibration", "synthetic"], "add --int8"),
    (["--int8", "--calibration", "synthetic", "--format", "torchscript"], "drop --format"),
    (["--int8", "--calibration", "nowhere/images"], "nowhere/images does not exist"),
])
def test_int8_option_errors(run_copy: Path, run_cli, args: list[str], message: str) -> None:
    code, _, err = run_cli("export", run_copy, *args)
    assert code == 2 and message in err
