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
