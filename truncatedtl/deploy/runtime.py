"""Runtimes that turn a batch of preprocessed inputs into logits: PyTorch (a module, or a TorchScript file) and
onnxruntime. One interface, so prediction, export checks and latency benchmarks treat them alike."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from torch import nn

from ..analysis.inference import Inference, InferenceModel


class Runtime(Protocol):
    """``batch_size``: the one batch size the model accepts, or None for any; ``note``: how it runs where that
    differs from what was asked (or None)."""

    batch_size: int | None
    note: str | None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Float32 inputs (N, C, *spatial) → logits (N, classes)."""
        ...


class TorchRuntime:
    """A PyTorch module (or loaded TorchScript) run by ``settings`` (default: CPU, float32): eval mode, no
    autograd, cuDNN autotuning on a GPU; with a CUDA graph it takes batches of one (batch-1 serving)."""

    def __init__(self, model: nn.Module, settings: Inference | None = None, input_shape: tuple[int, ...] = ()) -> None:
        settings = settings or Inference()
        if settings.cuda_graph and not input_shape:
            raise ValueError("a CUDA graph is captured for one input shape: give input_shape")
        self.batch_size: int | None = 1 if settings.cuda_graph else None
        self.model = InferenceModel(model, settings, (1, *input_shape))
        self.note: str | None = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))).cpu().numpy()


def onnx_providers(device: str = "cpu") -> tuple[list[str], str | None]:
    """onnxruntime's execution providers for ``device`` and a note where a GPU was asked for but onnxruntime's
    CUDA provider is not installed (the CPU provider runs instead)."""
    import onnxruntime as ort

    if not device.startswith("cuda"):
        return ["CPUExecutionProvider"], None
    if "CUDAExecutionProvider" in ort.get_available_providers():
        index = int(device.split(":")[1]) if ":" in device else 0
        return [("CUDAExecutionProvider", {"device_id": index}), "CPUExecutionProvider"], None
    return ["CPUExecutionProvider"], ("onnxruntime's CUDA provider is not installed here (pip install "
                                      "onnxruntime-gpu): the ONNX model runs on the CPU")


class OnnxRuntime:
    """An ONNX file run by onnxruntime: on ``device`` cuda by its CUDA provider where installed (else on the CPU,
    said in ``note``), on cpu by its CPU provider; ``threads`` sets its CPU intra-op threads (default: its
    own)."""

    def __init__(self, path: Path, threads: int | None = None, device: str = "cpu") -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        providers, self.note = onnx_providers(device)
        try:
            self.session = ort.InferenceSession(str(path), options, providers=providers)
        except Exception as err:  # every loader error means "not a usable ONNX file"
            raise ValueError(f"cannot load ONNX model {path}: {err}") from err
        self.input_name = self.session.get_inputs()[0].name
        batch = self.session.get_inputs()[0].shape[0]
        self.batch_size = batch if isinstance(batch, int) else None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: np.ascontiguousarray(x, dtype=np.float32)})[0]


def load_torchscript(path: Path, settings: Inference | None = None) -> TorchRuntime:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # TorchScript is deprecated upstream but still loads
        return TorchRuntime(torch.jit.load(str(path), map_location="cpu"), settings)


def load_runtime(path: Path, threads: int | None = None, device: str = "cpu") -> Runtime:
    """The runtime for an exported file: ``.onnx`` → onnxruntime, ``.pt`` → TorchScript, on ``device``."""
    if not path.is_file():
        raise FileNotFoundError(f"model file {path} does not exist (write it with ttl export)")
    if path.suffix == ".onnx":
        return OnnxRuntime(path, threads, device)
    if path.suffix == ".pt":
        return load_torchscript(path, Inference(device))
    raise ValueError(f"{path}: unknown model format (expected .onnx or .pt)")


def run_batched(runtime: Runtime, x: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Logits of every input of ``x``, in batches the runtime accepts."""
    step = runtime.batch_size or batch_size
    return np.concatenate([runtime(x[i:i + step]) for i in range(0, len(x), step)])

