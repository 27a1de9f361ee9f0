"""Runtimes that turn a batch of preprocessed inputs into logits: PyTorch (a module, or a TorchScript file) and
onnxruntime. One interface, so prediction, export checks and latency benchmarks treat them alike."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from torch import nn


class Runtime(Protocol):
    """``batch_size``: the one batch size the model accepts, or None for any."""

    batch_size: int | None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Float32 inputs (N, C, *spatial) → logits (N, classes)."""
        ...


class TorchRuntime:
    """A PyTorch module (or loaded TorchScript) on CPU, eval mode, no autograd."""

    batch_size: int | None = None

    def __init__(self, model: nn.Module) -> None:
        self.model = model.eval().cpu()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return self.model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).float().numpy()


class OnnxRuntime:
    """An ONNX file run by onnxruntime's CPU provider; ``threads`` sets its intra-op threads (default: its own)."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as err:  # every loader error means "not a usable ONNX file"
            raise ValueError(f"cannot load ONNX model {path}: {err}") from err
        self.input_name = self.session.get_inputs()[0].name
        batch = self.session.get_inputs()[0].shape[0]
        self.batch_size = batch if isinstance(batch, int) else None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: np.ascontiguousarray(x, dtype=np.float32)})[0]


def load_torchscript(path: Path) -> TorchRuntime:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # TorchScript is deprecated upstream but still loads
        return TorchRuntime(torch.jit.load(str(path), map_location="cpu"))


def load_runtime(path: Path, threads: int | None = None) -> Runtime:
    """The runtime for an exported file: ``.onnx`` → onnxruntime, ``.pt`` → TorchScript."""
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist (write it with ttl export)")
    if path.suffix == ".onnx":
        return OnnxRuntime(path, threads)
    if path.suffix == ".pt":
        return load_torchscript(path)
    raise ValueError(f"{path}: unknown model format (expected .onnx or .pt)")


def run_batched(runtime: Runtime, x: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Logits of every input of ``x``, in batches the runtime accepts."""
    step = runtime.batch_size or batch_size
    return np.concatenate([runtime(x[i:i + step]) for i in range(0, len(x), step)])

