"""An int8 model for the CPU: ONNX Runtime static quantization (QDQ: int8 weights per output channel, uint8
activations with ranges calibrated on training images the user names), checked layer by layer and reported
against the float model: scores on the run's test split and latency measured side by side.

Every layer that carries weights (convolutions, linear layers) must run in int8 once onnxruntime has optimised
the graph (``QLinearConv``, ``QGemm`` ...); where one would stay in float the export is refused and the layers
are named, so a model called int8 is int8 throughout."""

from __future__ import annotations

import functools
import io
import json
import tempfile
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from ..analysis.complexity import round_ratio, split_repeats, time_interleaved
from ..data import DataError, Samples, load_data
from ..engine import load_run
from ..files import atomic_path, write_json
from ..tasks import get_task
from ..tasks.classification.metrics import probabilities, scores
from .export import ExportError, export_model
from .inputs import collect_inputs
from .metadata import INPUT_NAME, Metadata, metadata_path, run_metadata
from .predict import readable_inputs
from .runtime import OnnxRuntime, run_batched

# Float operators that carry weights: none may be left once the int8 graph is optimised.
WEIGHT_OPS = ("Conv", "ConvTranspose", "FusedConv", "Gemm", "FusedGemm", "MatMul", "FusedMatMul")
QUANTIZATION = {"format": "QDQ", "weights": "int8, symmetric, per output channel", "activations": "uint8",
                "calibration": "min-max over the calibration images", "runtime": "onnxruntime, CPU"}


class QuantizationError(ExportError):
    """The model cannot be quantized to int8 throughout; the message names the layers."""


@dataclass(frozen=True)
class Int8Report:
    """What the int8 model costs and loses against the float one (batch-1 CPU latency timed side by side; test
    scores of both on the run's test split)."""

    path: str
    calibration: dict
    test: dict
    latency: dict
    quantization: dict

    def as_dict(self) -> dict:
        return asdict(self)


def report_path(model_file: Path) -> Path:
    """Where the report of an int8 export lives: ``model.int8.onnx`` → ``model.int8.onnx.report.json``."""
    return model_file.with_name(model_file.name + ".report.json")


def calibration_inputs(source: str, metadata: Metadata, config, limit: int) -> tuple[np.ndarray, str]:
    """Up to ``limit`` preprocessed inputs (evenly spaced over the source) and what they are. ``source``: a
    dataset as ``ttl train --data`` reads it (an ImageFolder tree, .npz, .csv, ``synthetic``: its training split,
    split as the run splits its own data), or image files and folders of loose images."""
    path = Path(source)
    dataset = (source == "synthetic" or path.suffix in (".npz", ".csv")
               or (path.is_dir() and any(p.is_dir() for p in path.iterdir())))
    if dataset:
        samples = load_data(source, seed=config.split_seed, limit=config.limit).train
        what = f"the training split of {source}"
    else:
        sets = collect_inputs([path], metadata.spatial_dims)
        samples = Samples([i for s in sets for i in s.samples.items], np.zeros(sum(len(s) for s in sets)))
        what = str(source)
    if len(samples) == 0:
        raise DataError(f"--calibration {source}: no image to calibrate on")
    index = np.unique(np.linspace(0, len(samples) - 1, min(limit, len(samples))).round().astype(int))
    inputs, _, errors = readable_inputs(samples.subset(index), metadata)
    if errors:
        raise DataError(f"--calibration {source}: {errors[0]}")
    return inputs, what


class _Batches:
    """onnxruntime's calibration reader: one input at a time."""

    def __init__(self, inputs: np.ndarray) -> None:
        self._items: Iterator[dict] = ({INPUT_NAME: x[None]} for x in inputs)

    def get_next(self) -> dict | None:
        return next(self._items, None)

    def rewind(self) -> None:  # pragma: no cover - one pass is all min-max calibration needs
        pass


def float_layers(model_file: Path) -> list[str]:
    """Layers with weights that still run in float once onnxruntime (CPU) has optimised ``model_file``: their
    names and operators."""
    import onnx
    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as folder:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        options.optimized_model_filepath = str(Path(folder) / "optimized.onnx")
        ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        graph = onnx.load(options.optimized_model_filepath).graph
    return [f"{node.name or '(unnamed)'} ({node.op_type})" for node in graph.node if node.op_type in WEIGHT_OPS]


def quantize_onnx(float_file: Path, out: Path, calibration: np.ndarray, nodes_to_exclude: tuple[str, ...] = ()) -> None:
    """Static QDQ quantization of ``float_file`` into ``out`` calibrated on ``calibration`` (N, C, *spatial);
    refused (:class:`QuantizationError`, nothing written) where a layer with weights would stay float."""
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    with tempfile.TemporaryDirectory() as folder, atomic_path(out) as tmp:
        prepared = Path(folder) / "prepared.onnx"
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            quant_pre_process(str(float_file), str(prepared))
            quantize_static(str(prepared), str(tmp), _Batches(calibration), quant_format=QuantFormat.QDQ,
                            per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            nodes_to_exclude=list(nodes_to_exclude))
        left = float_layers(tmp)
        if left:
            raise QuantizationError(f"{len(left)} layer(s) cannot be quantized to int8 by onnxruntime and would run "
                                    f"in float: {', '.join(left[:5])}{' ...' if len(left) > 5 else ''}; nothing "
                                    f"written (export the float model with ttl export --format onnx)")


def split_scores(runtime: OnnxRuntime, inputs: np.ndarray, labels: np.ndarray, metadata: Metadata) -> dict:
    """AUROC, AUPRC and accuracy (top class; multi-label: every label at 0.5) of ``runtime`` on ``inputs``."""
    probs = probabilities(torch.from_numpy(run_batched(runtime, inputs)), metadata.task)
    y = torch.as_tensor(labels)
    hits = ((probs >= 0.5).long() == y).float()[y >= 0] if metadata.task == "multilabel" else (
        (probs.argmax(1) == y).float())
    return {**scores(probs, y, metadata.task), "accuracy": float(hits.mean())}


def export_int8(run_dir: Path, calibration: str, out: Path | None = None, calibration_limit: int = 256,
                threads: int = 1, repeats: int = 30, rounds: int = 10) -> Int8Report:
    """Quantize a classification run's model to int8 (``out``, default ``RUN_DIR/model.int8.onnx``, its metadata
    beside it) calibrated on ``calibration``; score both models on the run's test split and time them side by
    side (batch 1, ``threads`` CPU threads); the report is written as ``<out>.report.json`` and returned."""
    run_dir = Path(run_dir)
    out = Path(out or run_dir / "model.int8.onnx")
    if out.suffix != ".onnx":
        raise ValueError(f"output file {out}: an int8 export is ONNX and must end in .onnx")
    if calibration_limit < 1:
        raise ValueError(f"--calibration-limit must be at least 1, got {calibration_limit}")
    model, metadata = run_metadata(run_dir)
    if metadata.task not in ("binary", "multiclass", "multilabel"):
        raise ValueError(f"--int8 quantizes classification models; {run_dir} is a {metadata.task} run")
    config = load_run(run_dir).config
    calibration_set, what = calibration_inputs(calibration, metadata, config, calibration_limit)
    test = get_task(config.task).load_data(config).test
    test_inputs, _, errors = readable_inputs(test, metadata)
    if errors:
        raise DataError(f"the test split of {config.data}: {errors[0]}")
    with tempfile.TemporaryDirectory() as folder:
        float_file = Path(folder) / "model.onnx"
        export_model(model, metadata, "onnx", float_file, dynamic_batch=True)
        quantize_onnx(float_file, out, calibration_set)
        runtimes = {"float": OnnxRuntime(float_file, threads), "int8": OnnxRuntime(out, threads)}
        scored = {k: split_scores(r, test_inputs, np.asarray(test.labels), metadata) for k, r in runtimes.items()}
        x = test_inputs[:1] if len(test_inputs) else np.zeros((1, *metadata.input_shape), np.float32)
        n_rounds, passes = split_repeats(repeats, rounds)
        round_ms = time_interleaved({k: functools.partial(r, x) for k, r in runtimes.items()}, 3, n_rounds, passes)
    ratio, spread = round_ratio(round_ms["int8"], round_ms["float"])
    report = Int8Report(
        path=out.name,
        calibration={"source": calibration, "what": what, "images": len(calibration_set)},
        test={"data": config.data, "samples": len(test_inputs), **scored,
              "delta": {m: scored["int8"][m] - scored["float"][m] for m in scored["float"]}},
        latency={"float_ms": float(np.median(round_ms["float"])), "int8_ms": float(np.median(round_ms["int8"])),
                 "ratio": ratio, "ratio_spread": list(spread), "batch_size": 1, "threads": threads,
                 "rounds": n_rounds, "repeats": n_rounds * passes, "device": "cpu"},
        quantization=QUANTIZATION)
    with atomic_path(metadata_path(out)) as tmp:
        tmp.write_text(json.dumps(metadata.with_format("onnx", True).as_dict(), indent=2))
    write_json(report_path(out), report.as_dict())
    return report
