"""Tiny searches: resnet18 without pretrained weights, 32 px synthetic images, one epoch, one repeat."""

from __future__ import annotations

import json
from pathlib import Path

from truncatedtl.engine import RunConfig
from truncatedtl.search import SearchSettings

TINY = {"data": "synthetic", "backbone": "resnet18", "image_size": 32, "max_epochs": 1, "limit": 32,
        "weights": "none", "device": "cpu"}
TINY_ARGS = ["--data", "synthetic", "--backbone", "resnet18", "--image-size", "32", "--max-epochs", "1",
             "--limit", "32", "--weights", "none", "--device", "cpu", "--repeats", "1"]
# What differs between two runs of the same search: time.
TIMING = {"seconds", "train_seconds", "cpu_ms", "gpu_ms", "cpu_latency", "gpu_latency", "cpu_latency_spread",
          "gpu_latency_spread", "latency"}


def tiny_base() -> RunConfig:
    return RunConfig(strategy="ttl", **TINY)


def settings(method: str, **values) -> SearchSettings:
    return SearchSettings(method=method, **{"repeats": 1, **values})


def without_timing(value):
    """``value`` (a report or record) without the keys that measure time."""
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if k not in TIMING}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


def report_of(out: Path) -> dict:
    return without_timing(json.loads((out / "report.json").read_text()))
