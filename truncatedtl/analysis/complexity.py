"""Model cost: parameters, multiply-accumulates (ptflops, pytorch backend, as in the paper) and latency."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn


def count_params(model: nn.Module) -> int:
    """Number of parameters (trainable or not) of ``model``."""
    return sum(p.numel() for p in model.parameters())


def count_macs(model: nn.Module, input_shape: tuple[int, ...]) -> int:
    """Multiply-accumulates of one forward pass on one input of ``input_shape`` = (channels, *spatial),
    counted by ptflops' pytorch backend (the counter the paper used)."""
    from ptflops import get_model_complexity_info

    was_training = model.training
    model.eval()
    with redirect_stdout(io.StringIO()):
        macs, _ = get_model_complexity_info(
            model, tuple(input_shape), as_strings=False, print_per_layer_stat=False, backend="pytorch"
        )
    model.train(was_training)
    return int(macs)


@dataclass(frozen=True)
class Latency:
    """Wall-clock time of one forward pass of a batch (median and 90th percentile over ``repeats``)."""

    median_ms: float
    p90_ms: float
    device: str
    batch_size: int
    threads: int
    repeats: int

    @classmethod
    def from_times(cls, times_ms: list[float], device: str, batch_size: int, threads: int) -> Latency:
        return cls(float(np.median(times_ms)), float(np.percentile(times_ms, 90)), device, batch_size, threads,
                   len(times_ms))


def time_calls(call: Callable[[], object], warmup: int, repeats: int) -> list[float]:
    """Wall time (ms) of each of ``repeats`` calls of ``call``, after ``warmup`` untimed calls. Any runtime
    (PyTorch, onnxruntime) is timed by the same loop."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1e3)
    return times


def measure_latency(model: nn.Module, input_shape: tuple[int, ...], batch_size: int = 1, device: str = "cpu",
                    threads: int | None = None, warmup: int = 5, repeats: int = 30) -> Latency:
    """Latency of ``model`` on random inputs of (batch_size, *input_shape): eval mode, no grad, after
    ``warmup`` passes; CUDA is synchronised around every pass. ``threads`` sets torch's intra-op threads
    for the measurement (default: leave as is) and is reported."""
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    used = torch.get_num_threads()
    was_training = model.training
    model.eval().to(device)
    x = torch.randn(batch_size, *input_shape, device=device)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)

    def forward() -> None:
        model(x)
        sync()

    try:
        with torch.inference_mode():
            sync()
            times = time_calls(forward, warmup, repeats)
    finally:
        torch.set_num_threads(previous)
        model.train(was_training)
    return Latency.from_times(times, device, batch_size, used)


@dataclass(frozen=True)
class Profile:
    """What one model costs: parameters, MACs of one input, and latency of one batch."""

    params: int
    macs: int
    latency: Latency

    def as_dict(self) -> dict:
        """Flat record: ``params, macs, latency_ms_median, latency_ms_p90, device, batch_size, threads, repeats``."""
        latency = asdict(self.latency)
        return {"params": self.params, "macs": self.macs, "latency_ms_median": latency.pop("median_ms"),
                "latency_ms_p90": latency.pop("p90_ms"), **latency}


def profile(model: nn.Module, input_shape: tuple[int, ...], batch_size: int = 1, device: str = "cpu",
            threads: int | None = None, warmup: int = 5, repeats: int = 30) -> Profile:
    """Parameters, MACs (one input of ``input_shape`` = (channels, *spatial), counted on CPU) and latency of
    ``model``: the one definition of cost that ``ttl profile``, ``compare`` and ``search`` report."""
    macs = count_macs(model.cpu(), input_shape)
    return Profile(count_params(model), macs,
                   measure_latency(model, input_shape, batch_size, device, threads, warmup, repeats))
