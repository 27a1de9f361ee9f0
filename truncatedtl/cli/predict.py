"""``ttl predict``: class probabilities of new images with a trained run's model, as CSV."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ..deploy import predict_files, predict_run
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
    config: Path | None = ConfigOption,
) -> None:
    """Class probabilities of images, folders or .npz files as CSV.

    One row per input (its path, or file.npz:array\\[i]) and one probability column per class: softmax, or
    sigmoid per class for multi-label models. Inputs are preprocessed exactly as evaluation does."""
    from rich.console import Console
    from rich.progress import Progress

    task = get_task(run_task(run_dir))
    if task.prediction_files:
        if onnx or out is None:
            raise ValueError(f"a {task.name} run predicts with PyTorch into a folder of files: give --out DIR "
                             "(and no --onnx)")
        written = predict_files(run_dir, inputs, out, probabilities)
        typer.echo(f"wrote {len(written)} file(s) to {out}")
        return

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("predict", total=None)
        predictions = predict_run(run_dir, inputs, onnx,
                                  lambda done, total: bar.update(task, completed=done, total=total))
    if out is None:
        predictions.write_csv(sys.stdout)
    else:
        predictions.save_csv(out)
        typer.echo(f"wrote {len(predictions.names)} rows to {out}")
    if predictions.unreadable:
        typer.echo(f"{len(predictions.unreadable)} input(s) could not be read and have no row:", err=True)
        for line in predictions.unreadable:
            typer.echo(f"  {line}", err=True)
        if not skip_unreadable:
            raise typer.Exit(1)
