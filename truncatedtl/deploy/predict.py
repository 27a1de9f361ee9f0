"""Class probabilities for new images, preprocessed by the very code evaluation runs."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np
import torch

from ..analysis.inference import Inference
from ..data import DataError, ImageDataset, Preprocessing, Samples
from ..engine import load_run
from ..files import atomic_path
from ..tasks import get_task, task_of_kind
from .export import FORMATS
from .inputs import InputSet, collect_inputs
from .metadata import Metadata, read_metadata, run_metadata
from .runtime import Runtime, TorchRuntime, load_runtime, run_batched

# Inputs decoded and preprocessed at a time: memory stays bounded however many inputs there are.
CHUNK = 64


@dataclass
class Predictions:
    """One row per readable input: its name and its probability of each class (N, classes); ``unreadable``:
    the inputs that could not be read, each with the reason."""

    names: list[str]
    probabilities: np.ndarray
    classes: list[str]
    unreadable: list[str] = field(default_factory=list)

    def write_csv(self, handle: TextIO) -> None:
        """Columns ``input`` then one per class."""
        writer = csv.writer(handle)
        writer.writerow(["input", *self.classes])
        for name, row in zip(self.names, self.probabilities, strict=True):
            writer.writerow([name, *(f"{p:.6g}" for p in row)])

    def save_csv(self, path: Path) -> None:
        """Write the CSV to ``path`` whole or not at all."""
        with atomic_path(path) as tmp, open(tmp, "w", newline="") as handle:
            self.write_csv(handle)


def readable_inputs(samples: Samples, metadata: Metadata) -> tuple[np.ndarray, list[int], list[str]]:
    """Float32 (N, C, *spatial) inputs of the items of ``samples`` that can be read, from
    :class:`~truncatedtl.data.ImageDataset` in evaluation mode with the run's intensity policy (exactly as a
    run's test split is fed); the indices of those items; the reasons of those that cannot."""
    prep = Preprocessing(metadata.image_size, metadata.spatial_dims, tuple(metadata.mean), tuple(metadata.std),
                         metadata.in_chans, metadata.intensity)
    dataset = ImageDataset(samples, prep, train=False)
    rows, keep, errors = [], [], []
    for i in range(len(dataset)):
        try:
            rows.append(dataset[i][0])
            keep.append(i)
        except DataError as err:
            errors.append(str(err))
    shape = (0, metadata.in_chans) + (metadata.image_size,) * metadata.spatial_dims
    return (torch.stack(rows).numpy() if rows else np.zeros(shape, np.float32)), keep, errors


def model_inputs(samples: Samples, metadata: Metadata) -> np.ndarray:
    """Inputs of every item of ``samples`` (see :func:`readable_inputs`); an unreadable one is an error."""
    inputs, _, errors = readable_inputs(samples, metadata)
    if errors:
        raise DataError(errors[0])
    return inputs


def predict(runtime: Runtime, metadata: Metadata, inputs: list[InputSet],
            progress: Callable[[int, int], None] | None = None) -> Predictions:
    """Probabilities (softmax, or sigmoid per class for multi-label models) of every readable input, in order;
    unreadable ones are listed in ``Predictions.unreadable``. ``progress(done, total)`` is called after each
    chunk."""
    total = sum(len(s) for s in inputs)
    names: list[str] = []
    unreadable: list[str] = []
    done = 0
    parts = [np.zeros((0, len(metadata.classes)), dtype=np.float32)]
    for inputs_set in inputs:
        for start in range(0, len(inputs_set), CHUNK):
            index = np.arange(start, min(start + CHUNK, len(inputs_set)))
            batch, keep, errors = readable_inputs(inputs_set.samples.subset(index), metadata)
            unreadable += errors
            if keep:
                logits = run_batched(runtime, batch, CHUNK)
                scores = task_of_kind(metadata.task).probabilities(torch.from_numpy(logits), metadata.task)
                parts.append(scores.numpy())
                names += [inputs_set.names[start + i] for i in keep]
            done += len(index)
            if progress is not None:
                progress(done, total)
    return Predictions(names, np.concatenate(parts), metadata.classes, unreadable)


def run_runtime(run_dir: Path, onnx: bool = False, settings: Inference | None = None) -> tuple[Runtime, Metadata]:
    """A run directory's model ready to predict: its PyTorch checkpoint run by ``settings`` (device, precision,
    CUDA graph), or with ``onnx`` its exported ``model.onnx`` (and ``model.onnx.json``) under onnxruntime on
    ``settings.device`` (precision and CUDA graphs are PyTorch's: refused there)."""
    run_dir = Path(run_dir)
    settings = settings or Inference()
    if onnx:
        if settings.precision != "32" or settings.cuda_graph:
            raise ValueError("--precision and --cuda-graph apply to the PyTorch model; the ONNX model runs as exported "
                             "(drop --onnx, or those options)")
        path = run_dir / FORMATS["onnx"]
        if not path.is_file():
            raise FileNotFoundError(f"{path} does not exist: export it first with ttl export {run_dir} --format onnx")
        return load_runtime(path, device=settings.device), read_metadata(path)
    model, metadata = run_metadata(run_dir)
    return TorchRuntime(model, settings, metadata.input_shape), metadata


def predict_run(run_dir: Path, inputs: list[Path], onnx: bool = False,
                progress: Callable[[int, int], None] | None = None, settings: Inference | None = None) -> Predictions:
    """Predict with a run directory's model (see :func:`run_runtime`)."""
    runtime, metadata = run_runtime(run_dir, onnx, settings)
    return predict(runtime, metadata, collect_inputs(inputs, metadata.spatial_dims), progress)


def predict_files(run_dir: Path, inputs: list[Path], out_dir: Path, probabilities: bool = False
                  ) -> tuple[list[Path], list[str]]:
    """The predictions of a run whose task writes files per input (a segmentation run's masks, at each image's
    original size) for image files and folders, written by its task into ``out_dir``; returns them and the
    reasons of the inputs that could not be read."""
    run = load_run(run_dir)
    _, metadata = run_metadata(run_dir, run)
    sets = collect_inputs(inputs, metadata.spatial_dims)
    if any(isinstance(s.samples.items, np.ndarray) for s in sets):
        raise ValueError(f"a {run.spec.task} run predicts image files and folders, not .npz arrays")
    files = [Path(item) for s in sets for item in s.samples.items]
    preprocessing = {"image_size": metadata.image_size, "mean": tuple(metadata.mean), "std": tuple(metadata.std),
                     "in_chans": metadata.in_chans, "intensity": metadata.intensity}
    return get_task(run.spec.task).write_predictions(run.model, files, Path(out_dir), preprocessing, run.config,
                                                     probabilities)
