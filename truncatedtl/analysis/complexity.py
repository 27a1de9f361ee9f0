"""Model cost: parameters, multiply-accumulates (ptflops, pytorch backend, as in the paper) and latency."""

from __future__ import annotations

import io
import time
from contextlib import redirect_stdout
from dataclasses import dataclass

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
    times = []
    try:
        with torch.inference_mode():
            for i in range(warmup + repeats):
                sync()
                start = time.perf_counter()
                model(x)
                sync()
                if i >= warmup:
                    times.append((time.perf_counter() - start) * 1e3)
    finally:
        torch.set_num_threads(previous)
        model.train(was_training)
    return Latency(float(np.median(times)), float(np.percentile(times, 90)), device, batch_size, used, repeats)
