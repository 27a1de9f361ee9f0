"""Model cost: parameters and multiply-accumulates (ptflops, pytorch backend, as in the paper)."""

from __future__ import annotations

import io
from contextlib import redirect_stdout

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
