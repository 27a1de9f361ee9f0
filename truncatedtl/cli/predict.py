"""``ttl predict``: class probabilities of new images with a trained run's model, as CSV."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ..analysis.inference import Inference
from ..deploy import collect_inputs, predict_files, run_runtime
from ..deploy import predict as predict_inputs
from ..engine import run_task
from ..tasks import get_task
from ._common import ConfigOption


def predict(
    run_dir: Annotated[Path, typer.Argument(help="Run directory written by ttl train.")],
    inputs: Annotated[list[Path], typer.Argument(help="Image files, folders of images, or .npz files; for a 3D "
                                                  "run NIfTI files, DICOM series folders (one per volume), or "
                                                  "folders of them.")],
    onnx: Annotated[bool, typer.Option("--onnx", help="Run RUN_DIR/model.onnx (from ttl export) under "
                                       "onnxruntime instead of PyTorch.")] = False,
    out: Annotated[Path | None, typer.Option(help="CSV file to write (default: standard output); for a "
                                             "segmentation run, the folder of mask PNGs (required).")] = None,
    probabilities: Annotated[bool, typer.Option("--probabilities", help="Segmentation: also write each image's "
                                                "class probabilities as <stem>.npy.")] = False,
    skip_unreadable: Annotated[bool, typer.Option("--skip-unreadable", help="Exit 0 even when some inputs cannot "
                                                  "be read (they are still listed on stderr).")] = False,
    device: Annotated[str, typer.Option(help="cpu or cuda (--onnx: onnxruntime's CUDA provider where installed, "
                                        "else the CPU, with a note).")] = "cpu",
    precision: Annotated[str, typer.Option(help="32, bf16-mixed, or 16-mixed (GPU only): autocast of the PyTorch "
                                           "model.")] = "32",
    cuda_graph: Annotated[bool, typer.Option("--cuda-graph", help="Capture the PyTorch model in a CUDA graph and "
                                             "replay it one input at a time (GPU only; batch-1 serving).")] = False,
    config: Path | None = ConfigOption,
) -> None:
    """Class probabilities of images, folders or .npz files as CSV.

    One row per input (its path, or file.npz:array\\[i]) and one probability column per class: softmax, or
    sigmoid per class for multi-label models. Inputs are preprocessed exactly as evaluation does."""
    from rich.console import Console
    from rich.progress import Progress

    settings = Inference(device, precision, cuda_graph)
    run_kind = get_task(run_task(run_dir))
    if run_kind.prediction_files:
        if onnx or out is None or settings != Inference():
            raise ValueError(f"a {run_kind.name} run predicts with PyTorch on the CPU into a folder of files: give "
                             "--out DIR (and no --onnx, --device, --precision or --cuda-graph)")
        written, unreadable = predict_files(run_dir, inputs, out, probabilities)
        typer.echo(f"wrote {len(written)} file(s) to {out}")
        _report_unreadable(unreadable, "file", skip_unreadable)
        return

    runtime, metadata = run_runtime(run_dir, onnx, settings)
    if runtime.note is not None:
        typer.echo(f"note: {runtime.note}", err=True)
    sets = collect_inputs(inputs, metadata.spatial_dims)
    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("predict", total=None)
        predictions = predict_inputs(runtime, metadata, sets, lambda done, total: bar.update(task, completed=done,
                                                                                         total=total))
    if out is None:
        predictions.write_csv(sys.stdout)
    else:
        predictions.save_csv(out)
        typer.echo(f"wrote {len(predictions.names)} rows to {out}")
    _report_unreadable(predictions.unreadable, "row", skip_unreadable)


def _report_unreadable(unreadable: list[str], output: str, skip: bool) -> None:
    """List the inputs that could not be read on stderr; exit 1 unless ``--skip-unreadable``."""
    if unreadable:
        typer.echo(f"{len(unreadable)} input(s) could not be read and have no {output}:", err=True)
        for line in unreadable:
            typer.echo(f"  {line}", err=True)
        if not skip:
            raise typer.Exit(1)
