"""The memory format a run trains in: channels-last (NHWC, NDHWC) only where it was measured faster.

Channels-last is no rule of thumb on a CPU: for the inflated EfficientNet-Lite0 at 32³ it speeds the forward
pass yet slows a training step (forward + backward) to 0.6×, while the 2D Lite0 at 96² trains 1.4× faster in it.
So ``auto`` times a training step of the run's own network in both formats on this device, side by side
(:func:`~truncatedtl.analysis.complexity.time_interleaved`, on a copy of the model so training starts from the
same weights and BN statistics), and keeps channels-last only where it is faster by a margin; the choice and
the times are recorded in the run's result. The measurement costs about as much as one training step at the
run's batch, so runs of fewer than ``PROBE_MIN_STEPS`` steps are not measured (they train contiguous), and the
trials of a search or comparison reuse the choice made for the same network and batch in the process. It draws
nothing from torch's random streams, so a run's augmentation draws do not depend on it."""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from ..analysis.complexity import time_interleaved

MEMORY_FORMATS = ("auto", "contiguous", "channels_last")
MEMORY_FORMAT_HELP = ("Training memory format: contiguous, channels_last (NHWC / NDHWC), or auto: channels_last "
                      "only where a training step of this network is measured faster in it on this device "
                      "(recorded in the run's result).")
# Channels-last must be this much faster (ratio of step times) to be chosen: noise must not flip the choice.
MARGIN = 0.95
PROBE_BATCH = 16
PROBE_ROUNDS = 3
PROBE_MIN_STEPS = 20
# The choice made for each (network, input, device, batch, threads) in this process.
_CHOSEN: dict[tuple, MemoryFormat] = {}


@dataclass(frozen=True)
class MemoryFormat:
    """The format chosen (``contiguous`` or ``channels_last``), how (``given``, ``measured`` or ``not measured``)
    and, where measured, the median step times of each (ms, batch ``probe_batch``)."""

    name: str
    how: str
    contiguous_ms: float | None = None
    channels_last_ms: float | None = None
    probe_batch: int | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


def check_memory_format(name: str) -> str:
    if name not in MEMORY_FORMATS:
        raise ValueError(f"--memory-format {name!r}: choose one of {', '.join(MEMORY_FORMATS)}")
    return name


def torch_format(name: str, spatial_dims: int) -> torch.memory_format:
    """The torch memory format of ``name`` for inputs with ``spatial_dims`` axes."""
    if name == "contiguous":
        return torch.contiguous_format
    return torch.channels_last_3d if spatial_dims == 3 else torch.channels_last


def _training_step(model: nn.Module, x: torch.Tensor, sync) -> None:
    model(x).float().sum().backward()
    model.zero_grad(set_to_none=True)
    sync()


def measure_step(model: nn.Module, input_shape: tuple[int, ...], device: torch.device, batch: int = PROBE_BATCH,
                 rounds: int = PROBE_ROUNDS) -> tuple[float, float]:
    """Median training-step time (ms; forward + backward of a random batch of ``batch``) of a copy of ``model``
    contiguous and channels-last, timed side by side on ``device``."""
    spatial_dims = len(input_shape) - 1
    fmt = torch_format("channels_last", spatial_dims)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    x = torch.randn(batch, *input_shape, generator=torch.Generator().manual_seed(0)).to(device)
    plain = copy.deepcopy(model).to(device).train()
    last = copy.deepcopy(model).to(device).train().to(memory_format=fmt)
    calls = {"contiguous": lambda: _training_step(plain, x, sync),
             "channels_last": lambda: _training_step(last, x.contiguous(memory_format=fmt), sync)}
    times = time_interleaved(calls, 1, rounds)
    return float(np.median(times["contiguous"])), float(np.median(times["channels_last"]))


def choose_memory_format(name: str, model: nn.Module, input_shape: tuple[int, ...], device: torch.device,
                         batch_size: int, steps: int) -> MemoryFormat:
    """The format a run of ``steps`` training steps of ``model`` trains in, by ``--memory-format`` ``name`` (see
    the module docstring)."""
    if check_memory_format(name) != "auto":
        return MemoryFormat(name, "given")
    if steps < PROBE_MIN_STEPS:
        return MemoryFormat("contiguous", "not measured")
    batch = min(batch_size, PROBE_BATCH)
    shapes = tuple((k, tuple(v.shape)) for k, v in model.state_dict().items())
    key = (type(model).__name__, shapes, tuple(input_shape), str(device), batch, torch.get_num_threads())
    if key not in _CHOSEN:
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            contiguous, channels_last = measure_step(model, input_shape, device, batch)
        chosen = "channels_last" if channels_last < MARGIN * contiguous else "contiguous"
        _CHOSEN[key] = MemoryFormat(chosen, "measured", contiguous, channels_last, batch)
    return _CHOSEN[key]
