"""How a trained network runs at inference, as users would serve it: eval mode without autograd on a device, at
a precision (autocast), with cuDNN autotuning on a GPU (inputs keep one shape, so the fastest kernel found for it
is the one kept), and optionally captured in a CUDA graph (one fixed batch replayed without launching each kernel
from Python: what batch-1 serving gains most from). Latency measurement and prediction run models through this."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

import torch
from torch import nn

# The autocast type of each --precision (the names ttl train takes).
AUTOCAST = {"32": None, "bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}
# Untimed passes before a CUDA graph is captured (lazy initialisation and autotuning happen outside it).
GRAPH_WARMUP = 3


@dataclass(frozen=True)
class Inference:
    """``device`` (cpu, cuda, cuda:N), ``precision`` (32, bf16-mixed, 16-mixed: a GPU only), ``cuda_graph``."""

    device: str = "cpu"
    precision: str = "32"
    cuda_graph: bool = False

    def __post_init__(self) -> None:
        cuda = self.device.startswith("cuda")
        if self.device != "cpu" and not cuda:
            raise ValueError(f"--device {self.device}: choose cpu or cuda")
        if cuda and not torch.cuda.is_available():
            raise ValueError(f"--device {self.device}: no CUDA device is available here; use --device cpu")
        if self.precision not in AUTOCAST:
            raise ValueError(f"--precision {self.precision!r}: choose one of {', '.join(AUTOCAST)}")
        if self.precision == "16-mixed" and not cuda:
            raise ValueError("--precision 16-mixed needs a GPU (--device cuda); on CPU use bf16-mixed or 32")
        if self.cuda_graph and not cuda:
            raise ValueError("--cuda-graph captures the model in a CUDA graph, which needs a GPU: give --device cuda "
                             "on a machine with CUDA (none is in use here)")

    @property
    def cuda(self) -> bool:
        return self.device.startswith("cuda")


@contextmanager
def cudnn_autotune(enabled: bool = True) -> Iterator[None]:
    """cuDNN benchmarks its convolution algorithms on the first input of each shape and keeps the fastest (for
    fixed-shape inference); the previous setting is restored on exit."""
    previous = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = enabled
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = previous


class InferenceModel:
    """``model`` run by ``settings``: call with a batch (on any device) to get float32 logits on the model's
    device. With ``cuda_graph`` the batch must have ``shape`` (batch, C, *spatial), the shape it was captured
    at."""

    def __init__(self, model: nn.Module, settings: Inference, shape: tuple[int, ...]) -> None:
        self.model = model.eval().to(settings.device)
        self.settings = settings
        self.shape = tuple(shape)
        self.graph: torch.cuda.CUDAGraph | None = None
        if settings.cuda_graph:
            self._capture()

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = AUTOCAST[self.settings.precision]
        device_type = "cuda" if self.settings.cuda else "cpu"
        cast = torch.autocast(device_type, dtype=dtype) if dtype is not None else nullcontext()
        with torch.inference_mode(), cudnn_autotune(self.settings.cuda), cast:
            return self.model(x).float()

    def _capture(self) -> None:
        self.static_input = torch.randn(self.shape, device=self.settings.device)
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(GRAPH_WARMUP):
                self._forward(self.static_input)
        torch.cuda.current_stream().wait_stream(stream)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.static_output = self._forward(self.static_input)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.graph is None:
            return self._forward(x.to(self.settings.device, non_blocking=True))
        if tuple(x.shape) != self.shape:
            raise ValueError(f"the CUDA graph was captured for inputs of shape {self.shape}, got {tuple(x.shape)}")
        self.static_input.copy_(x)
        self.graph.replay()
        return self.static_output.clone()

    def timed(self, x: torch.Tensor) -> None:
        """One pass, finished on the device before it returns (for timing)."""
        self(x)
        if self.settings.cuda:
            torch.cuda.synchronize()
