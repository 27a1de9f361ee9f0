"""Export a trained model to ONNX or TorchScript, checked against PyTorch, with its metadata beside it."""

from __future__ import annotations

import io
import json
import warnings
from contextlib import redirect_stdout
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..files import atomic_path
from .metadata import INPUT_NAME, OUTPUT_NAME, Metadata, metadata_path, run_metadata
from .runtime import TorchRuntime, load_runtime

# Default file name (in the run directory) of each format; the suffix also tells the runtime to load it with.
FORMATS = {"onnx": "model.onnx", "torchscript": "model.pt"}
# Largest |logit difference| to PyTorch on random inputs that an export may show; beyond it, nothing is written.
MAX_DIFF = 1e-3


def check_format(format: str) -> str:
    if format not in FORMATS:
        raise ValueError(f"unknown export format {format!r}; choose one of {', '.join(FORMATS)}")
    return format


class ExportError(ValueError):
    """The model cannot be written faithfully in the asked format; the message says why."""


@dataclass(frozen=True)
class Exported:
    path: Path
    metadata: Path
    max_abs_diff: float
    card: Path | None = None


def to_onnx(model: nn.Module, input_shape: tuple[int, ...], path: Path, dynamic_batch: bool) -> None:
    """ONNX through torch.export (the dynamo exporter), weights inside the file; batch dimension symbolic
    with ``dynamic_batch``, else fixed at 1."""
    x = torch.randn(2 if dynamic_batch else 1, *input_shape)
    shapes = ({0: torch.export.Dim("batch")},) if dynamic_batch else None
    with redirect_stdout(io.StringIO()):  # the exporter reports its steps on stdout
        torch.onnx.export(model.eval(), (x,), str(path), input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          dynamic_shapes=shapes, external_data=False)


def to_torchscript(model: nn.Module, input_shape: tuple[int, ...], path: Path, dynamic_batch: bool) -> None:
    """TorchScript by tracing; a traced CNN takes any batch size, so ``dynamic_batch`` changes nothing."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*deprecated")  # TorchScript is deprecated upstream
        torch.jit.trace(model.eval(), torch.randn(1, *input_shape)).save(str(path))


_WRITERS = {"onnx": to_onnx, "torchscript": to_torchscript}


def max_abs_diff(model: nn.Module, exported: Path, input_shape: tuple[int, ...], batch_size: int) -> float:
    """Largest |logit difference| between ``model`` and the exported file on random inputs, in units of the
    logits' scale (their largest magnitude, at least 1): float32 rounding grows with the values, so logits in
    the hundreds (an untrained segmentation map) are held to the same relative standard as logits near 1."""
    x = np.random.default_rng(0).standard_normal((batch_size, *input_shape), dtype=np.float32)
    reference = TorchRuntime(model)(x)
    scale = max(1.0, float(np.abs(reference).max()))
    return float(np.abs(reference - load_runtime(exported)(x)).max()) / scale


def export_model(model: nn.Module, metadata: Metadata, format: str, path: Path,
                 dynamic_batch: bool = False) -> Exported:
    """Write ``model`` to ``path`` in ``format`` and its metadata to ``<path>.json``. The file is written under a
    temporary name and checked against PyTorch (batch 2 where the batch is dynamic) before it takes its name."""
    suffix = Path(FORMATS[check_format(format)]).suffix
    if path.suffix != suffix:
        raise ValueError(f"output file {path}: a {format} export must end in {suffix}")
    dynamic = dynamic_batch or format == "torchscript"
    with atomic_path(path) as tmp:
        tmp.touch()  # a location that cannot be written fails here, before the export's work
        _WRITERS[format](model, metadata.input_shape, tmp, dynamic)
        diff = max_abs_diff(model, tmp, metadata.input_shape, 2 if dynamic else 1)
        if not diff <= MAX_DIFF:
            raise ExportError(f"the {format} export of {metadata.backbone} gives logits {diff:.2g} away from "
                              f"PyTorch's, relative to their scale (at most {MAX_DIFF:g} allowed); nothing written")
    with atomic_path(metadata_path(path)) as tmp:
        tmp.write_text(json.dumps(metadata.with_format(format, dynamic).as_dict(), indent=2))
    return Exported(path, metadata_path(path), diff)


def export_run(run_dir: Path, format: str, out: Path | None = None, dynamic_batch: bool = False) -> Exported:
    """Export a run directory's model; ``out`` defaults to ``run_dir/model.onnx`` or ``run_dir/model.pt``. Its
    model card (``MODEL_CARD.md``) is written beside it."""
    from .model_card import write_model_card

    out = Path(out or Path(run_dir) / FORMATS[check_format(format)])
    model, metadata = run_metadata(Path(run_dir))
    exported = export_model(model, metadata, format, out, dynamic_batch)
    card = write_model_card(Path(run_dir), metadata, [exported.path, exported.metadata])
    return replace(exported, card=card)
