"""``ttl export``: a trained run's model as ONNX or TorchScript, with its preprocessing metadata beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..deploy import export_run
from ._common import ConfigOption


def export(
    run_dir: Annotated[Path, typer.Argument(help="Run directory written by ttl train.")],
    model_format: Annotated[str, typer.Option("--format", help="onnx or torchscript.")] = "onnx",
    dynamic_batch: Annotated[bool, typer.Option("--dynamic-batch", help="ONNX: accept any batch size "
                                                "(default: batch 1 only). A TorchScript export always does.")] = False,
    out: Annotated[Path | None, typer.Option(help="Output file (default RUN_DIR/model.onnx or "
                                             "RUN_DIR/model.pt).")] = None,
    config: Path | None = ConfigOption,
) -> None:
    """Export a run's model to ONNX or TorchScript, with its metadata.

    Writes the model file and <file>.json beside it (image size, mean/std, class names, spatial dims, strategy
    and cut), and MODEL_CARD.md (model, cost against FTL, data, preprocessing, recipe, scores, verdict against
    FTL, known limits; intended use left to fill in); the file is checked against PyTorch on random inputs
    before it takes its name."""
    exported = export_run(run_dir, model_format, out, dynamic_batch)
    typer.echo(f"wrote {exported.path}, {exported.metadata.name} and {exported.card.name} "
               f"(largest logit difference to PyTorch {exported.max_abs_diff:.1e})")
