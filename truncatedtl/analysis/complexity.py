"""Model cost: parameters, multiply-accumulates (ptflops, pytorch backend, as in the paper) and latency."""

from __future__ import annotations

import functools
import io
import time
from collections.abc import Callable, Mapping
from contextlib import redirect_stdout
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from .inference import Inference, InferenceModel


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
    """Wall-clock time of one forward pass of a batch: median and 90th percentile over the rounds' medians
    (``repeats`` timed passes in all, in ``rounds`` rounds)."""

    median_ms: float
    p90_ms: float
    device: str
    batch_size: int
    threads: int
    repeats: int
    rounds: int = 1
    precision: str = "32"
    cuda_graph: bool = False

    @classmethod
    def from_rounds(cls, round_ms: list[float], passes: int, settings: Inference, batch_size: int,
                    threads: int) -> Latency:
        return cls(float(np.median(round_ms)), float(np.percentile(round_ms, 90)), settings.device, batch_size,
                   threads, passes * len(round_ms), len(round_ms), settings.precision, settings.cuda_graph)


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


def split_repeats(repeats: int, rounds: int) -> tuple[int, int]:
    """``repeats`` timed passes per model as (rounds, passes per round): at most ``rounds`` rounds, each of the
    same number of passes (``repeats`` rounded down to a multiple of it)."""
    if repeats < 1 or rounds < 1:
        raise ValueError(f"repeats and rounds must be at least 1, got {repeats} and {rounds}")
    rounds = min(rounds, repeats)
    return rounds, repeats // rounds


def time_interleaved(calls: Mapping[str, Callable[[], object]], warmup: int, rounds: int,
                     passes: int = 1) -> dict[str, list[float]]:
    """Each round's median wall time (ms) of every call: ``warmup`` untimed calls each, then ``rounds`` rounds
    that time each call ``passes`` times in a row, the order reversed every other round (A B, B A, A B ...), so
    that a change of load on the machine, or a call that warms the caches for the next, hits all alike. The one
    timing loop of every latency the product compares (``ttl profile --versus``, compare, search, benchmarks)."""
    for call in calls.values():
        time_calls(call, warmup, 0)
    keys = list(calls)
    medians: dict[str, list[float]] = {key: [] for key in keys}
    for r in range(rounds):
        for key in (keys if r % 2 == 0 else keys[::-1]):
            medians[key].append(float(np.median(time_calls(calls[key], 0, passes))))
    return medians


def round_ratio(numerator: list[float], denominator: list[float]) -> tuple[float, tuple[float, float]]:
    """Latency ratio of two models timed in the same rounds: the median of the per-round ratios, and their
    lowest and highest (the spread over rounds)."""
    ratios = np.asarray(numerator) / np.asarray(denominator)
    return float(np.median(ratios)), (float(ratios.min()), float(ratios.max()))


@dataclass(frozen=True)
class Interleaved:
    """Models timed side by side: each model's rounds' medians (``round_ms``) and how they were run."""

    round_ms: dict[str, list[float]]
    passes: int
    settings: Inference
    batch_size: int
    threads: int

    def latency(self, key: str) -> Latency:
        return Latency.from_rounds(self.round_ms[key], self.passes, self.settings, self.batch_size, self.threads)

    def ratio(self, key: str, reference: str) -> tuple[float, tuple[float, float]]:
        """Latency of ``key`` over that of ``reference`` (see :func:`round_ratio`)."""
        return round_ratio(self.round_ms[key], self.round_ms[reference])


def measure_interleaved(models: Mapping[str, tuple[nn.Module, tuple[int, ...]]], batch_size: int = 1,
                        settings: Inference | None = None, threads: int | None = None, warmup: int = 5,
                        repeats: int = 30, rounds: int = 10) -> Interleaved:
    """Latency of every model (each with the shape of one input) on random inputs of (batch_size, *shape), run
    as users would (:class:`~.inference.Inference`: eval mode, no grad, cuDNN autotuning, precision, CUDA
    graph), timed by :func:`time_interleaved` in one process; CUDA is synchronised around every pass.
    ``threads`` sets torch's intra-op threads for the measurement (default: leave as is) and is reported."""
    settings = settings or Inference()
    rounds, passes = split_repeats(repeats, rounds)
    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    used = torch.get_num_threads()
    modes = {key: model.training for key, (model, _) in models.items()}
    calls = {}
    try:
        for key, (model, shape) in models.items():
            run = InferenceModel(model, settings, (batch_size, *shape))
            x = torch.randn(batch_size, *shape, device=settings.device)
            calls[key] = functools.partial(run.timed, x)
        with torch.inference_mode():
            round_ms = time_interleaved(calls, warmup, rounds, passes)
    finally:
        torch.set_num_threads(previous)
        for key, (model, _) in models.items():
            model.train(modes[key])
    return Interleaved(round_ms, passes, settings, batch_size, used)


def measure_latency(model: nn.Module, input_shape: tuple[int, ...], batch_size: int = 1, device: str = "cpu",
                    threads: int | None = None, warmup: int = 5, repeats: int = 30, rounds: int = 10,
                    settings: Inference | None = None) -> Latency:
    """Latency of one model (:func:`measure_interleaved` with one model). Absolute figures, on a GPU above all,
    vary from one process to the next: compare two models with :func:`measure_interleaved`, never two of these."""
    settings = settings or Inference(device)
    timed = measure_interleaved({"model": (model, input_shape)}, batch_size, settings, threads, warmup, repeats,
                                rounds)
    return timed.latency("model")


@dataclass(frozen=True)
class Profile:
    """What one model costs: parameters, MACs of one input, and latency of one batch."""

    params: int
    macs: int
    latency: Latency

    def as_dict(self) -> dict:
        """Flat record: ``params, macs, latency_ms_median, latency_ms_p90``, then how latency was measured."""
        latency = asdict(self.latency)
        return {"params": self.params, "macs": self.macs, "latency_ms_median": latency.pop("median_ms"),
                "latency_ms_p90": latency.pop("p90_ms"), **latency}


def profile(model: nn.Module, input_shape: tuple[int, ...], batch_size: int = 1, device: str = "cpu",
            threads: int | None = None, warmup: int = 5, repeats: int = 30, rounds: int = 10,
            settings: Inference | None = None) -> Profile:
    """Parameters, MACs (one input of ``input_shape`` = (channels, *spatial), counted on CPU) and latency of
    ``model``: the one definition of cost that ``ttl profile``, ``compare`` and ``search`` report."""
    macs = count_macs(model.cpu(), input_shape)
    return Profile(count_params(model), macs,
                   measure_latency(model, input_shape, batch_size, device, threads, warmup, repeats, rounds,
                                   settings))
