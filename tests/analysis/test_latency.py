"""Latency timed side by side: interleaved rounds, the ratio of a deliberately slowed model, inference settings
that need a GPU refused (or skipped) clearly on CPU."""

from __future__ import annotations

import time

import pytest
import torch
from torch import nn

from truncatedtl.analysis.complexity import measure_interleaved, round_ratio, split_repeats, time_interleaved
from truncatedtl.analysis.inference import Inference, InferenceModel, cudnn_autotune

NO_GPU = "no CUDA GPU here: cuDNN autotuning and CUDA graphs run on a GPU only"


class Sleeper(nn.Module):
    """Identity that takes ``ms`` milliseconds: its latency is known whatever the machine's load."""

    def __init__(self, ms: float) -> None:
        super().__init__()
        self.ms = ms
        self.linear = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        time.sleep(self.ms / 1e3)
        return self.linear(x.flatten(1)[:, :4])


def test_rounds_alternate_the_order_and_keep_each_rounds_median() -> None:
    order: list[str] = []
    calls = {"a": lambda: order.append("a"), "b": lambda: order.append("b")}
    medians = time_interleaved(calls, warmup=1, rounds=4, passes=2)
    assert order == ["a", "b"] + ["a", "a", "b", "b", "b", "b", "a", "a"] * 2
    assert {k: len(v) for k, v in medians.items()} == {"a": 4, "b": 4}


def test_a_model_slowed_threefold_reads_a_third_as_fast_with_its_spread() -> None:
    models = {"fast": (Sleeper(10), (1, 2, 2)), "slow": (Sleeper(30), (1, 2, 2))}
    timed = measure_interleaved(models, warmup=1, repeats=12, rounds=6)
    ratio, (low, high) = timed.ratio("fast", "slow")
    assert 0.25 < ratio < 0.5 and low <= ratio <= high  # 1/3, plus the same scheduling delay on both
    latency = timed.latency("slow")
    assert (latency.rounds, latency.repeats) == (6, 12) and latency.median_ms >= 30


def test_ratio_is_the_median_of_the_rounds_ratios() -> None:
    assert round_ratio([1.0, 2.0, 6.0], [2.0, 2.0, 3.0]) == (1.0, (0.5, 2.0))
    assert split_repeats(30, 10) == (10, 3) and split_repeats(4, 10) == (4, 1) and split_repeats(7, 2) == (2, 3)


@pytest.mark.parametrize(("settings", "message"), [
    ({"cuda_graph": True}, "--cuda-graph captures the model in a CUDA graph, which needs a GPU"),
    ({"precision": "16-mixed"}, "--precision 16-mixed needs a GPU"),
    ({"device": "tpu"}, "--device tpu"),
])
def test_gpu_only_settings_are_refused_on_cpu(settings: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Inference(**settings)


def test_bf16_on_cpu_gives_float32_logits_close_to_fp32() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2))
    x = torch.randn(2, 3, 16, 16)
    exact = InferenceModel(model, Inference(), x.shape)(x)
    half = InferenceModel(model, Inference(precision="bf16-mixed"), x.shape)(x)
    assert half.dtype == torch.float32 and torch.allclose(half, exact, atol=0.05)


@pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_GPU)
def test_cudnn_autotuning_is_on_while_a_model_runs_and_restored_after() -> None:
    seen = []

    class Probe(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            seen.append(torch.backends.cudnn.benchmark)
            return x.flatten(1)

    before = torch.backends.cudnn.benchmark
    InferenceModel(Probe(), Inference("cuda"), (1, 3, 4, 4))(torch.zeros(1, 3, 4, 4))
    assert seen == [True] and torch.backends.cudnn.benchmark == before
    with cudnn_autotune():
        assert torch.backends.cudnn.benchmark


@pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_GPU)
def test_a_cuda_graph_replays_the_models_logits() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(8, 2))
    x = torch.randn(1, 3, 32, 32, device="cuda")
    eager = InferenceModel(model, Inference("cuda"), x.shape)(x)
    graphed = InferenceModel(model, Inference("cuda", cuda_graph=True), x.shape)
    assert torch.allclose(graphed(x), eager, atol=1e-5)
    with pytest.raises(ValueError, match="captured for inputs of shape"):
        graphed(torch.randn(2, 3, 32, 32, device="cuda"))
    latency = measure_interleaved({"m": (model, (3, 32, 32))}, settings=Inference("cuda", cuda_graph=True),
                                  warmup=1, repeats=4, rounds=2).latency("m")
    assert latency.cuda_graph and latency.median_ms > 0
