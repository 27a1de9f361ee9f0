"""``ttl export``: a trained run's model as ONNX or TorchScript (or int8 ONNX), with its preprocessing metadata
beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..deploy import export_run
from ..deploy.quantize import export_int8
from ..engine import load_run
from ._common import ConfigOption


def export(
    run_dir: Annotated[Path, typer.Argument(help="Run directory written by ttl train.")],
    model_format: Annotated[str, typer.Option("--format", help="onnx or torchscript.")] = "onnx",
    dynamic_batch: Annotated[bool, typer.Option("--dynamic-batch", help="ONNX: accept any batch size "
                                                "(default: batch 1 only). A TorchScript export always does.")] = False,
    out: Annotated[Path | None, typer.Option(help="Output file (default RUN_DIR/model.onnx, RUN_DIR/model.pt, or "
                                             "with --int8 RUN_DIR/model.int8.onnx).")] = None,
    int8: Annotated[bool, typer.Option("--int8", help="ONNX with int8 weights and activations (onnxruntime static "
                                       "quantization, CPU), calibrated on --calibration; its report (test scores "
                                       "against the float model, latency ratio) is written beside it.")] = False,
    calibration: Annotated[str | None, typer.Option(help="--int8: the training images to calibrate on: a dataset as "
                                                    "ttl train --data reads it (its training split), or image "
                                                    "files / a folder of images (default: the run's own "
                                                    "training split, read from its --data).")] = None,
    calibration_limit: Annotated[int, typer.Option(help="--int8: at most this many calibration images (evenly "
                                                   "spaced).")] = 256,
    threads: Annotated[int, typer.Option(help="--int8: CPU threads of the latency measurement.")] = 1,
    config: Path | None = ConfigOption,
) -> None:
    """Export a run's model to ONNX or TorchScript, with its metadata; or an int8 ONNX model with a report.

    Writes the model file and <file>.json beside it (image size, mean/std, class names, spatial dims, strategy
    and cut), and MODEL_CARD.md (model, cost against FTL, data, preprocessing, recipe, scores, verdict against
    FTL, known limits; intended use left to fill in); the file is checked against PyTorch on random inputs
    before it takes its name. With --int8, also
    <file>.report.json: AUROC, AUPRC and accuracy of the float and the int8 model on the run's test split and
    their latency ratio (batch 1, timed side by side); refused, naming the layers, where one cannot run in
    int8."""
    if int8:
        if model_format != "onnx" or dynamic_batch:
            raise ValueError("--int8 writes an ONNX model that takes any batch size: drop --format and "
                             "--dynamic-batch")
        if calibration is None:  # the run's own training split
            calibration = load_run(run_dir).config.data
        report = export_int8(run_dir, calibration, out, calibration_limit, threads)
        test, latency = report.test, report.latency
        typer.echo(f"wrote {report.path} and its metadata and report beside it (calibrated on "
                   f"{report.calibration['images']} images from {report.calibration['what']})")
        for metric in ("auroc", "auprc", "accuracy"):
            typer.echo(f"test {metric:<8} float {test['float'][metric]:.4f}  int8 {test['int8'][metric]:.4f}  "
                       f"delta {test['delta'][metric]:+.4f}  ({test['samples']} samples)")
        low, high = latency["ratio_spread"]
        typer.echo(f"latency  float {latency['float_ms']:.2f} ms  int8 {latency['int8_ms']:.2f} ms  ratio "
                   f"{latency['ratio']:.3f}x (rounds {low:.3f}x to {high:.3f}x; batch 1, {threads} thread(s), "
                   f"timed side by side)")
        return
    if calibration is not None:
        raise ValueError("--calibration calibrates an int8 export: add --int8")
    exported = export_run(run_dir, model_format, out, dynamic_batch)
    typer.echo(f"wrote {exported.path}, {exported.metadata.name} and {exported.card.name} "
               f"(largest logit difference to PyTorch {exported.max_abs_diff:.1e})")
