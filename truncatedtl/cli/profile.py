"""``ttl profile``: what a model costs — parameters, MACs and latency — for a backbone cut or a trained run."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import torch
import typer
from torch import nn

from ..analysis.complexity import profile as measure
from ..backbones import load_backbone
from ..deploy import run_metadata
from ..spec import HeadSpec
from ..tasks import build_network, resolve_spec
from ._common import ConfigOption


def check_device(device: str) -> str:
    if device != "cpu" and not device.startswith("cuda"):
        raise ValueError(f"--device {device}: choose cpu or cuda")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"--device {device}: no CUDA device is available here")
    return device


def target_network(target: str, strategy: str | None, cut: int | None, image_size: int | None,
                   num_classes: int | None) -> tuple[nn.Module, tuple[int, ...], dict]:
    """The network to profile, the shape of one input, and what it is (model, strategy, cut, size, classes).

    A run directory gives its trained network; a backbone name the network ``strategy`` builds at ``cut`` —
    built as ``ttl cutpoints`` builds it, so both report the same MACs."""
    path = Path(target)
    if path.is_dir():
        if strategy is not None or cut is not None or num_classes is not None:
            raise ValueError(f"--strategy, --cut and --num-classes describe a backbone; the run {path} has its own")
        model, metadata = run_metadata(path)
        size = image_size or metadata.image_size
        if size != metadata.image_size and model.head.pool is None:
            raise ValueError(f"--image-size {size}: the run {path} has an unpooled head that takes "
                             f"{metadata.image_size}² inputs only")
        about = {"model": metadata.backbone, "strategy": metadata.strategy, "cut": metadata.cut,
                 "image_size": size, "num_classes": len(metadata.classes)}
        return model, replace(metadata, image_size=size).input_shape, about
    if len(path.parts) > 1 or path.suffix:
        raise FileNotFoundError(f"run directory {path} does not exist")
    backbone = load_backbone(target, "none")
    strategy = strategy or ("ttl" if cut is not None else "ftl")
    size, classes = 224 if image_size is None else image_size, 2 if num_classes is None else num_classes
    spec = resolve_spec(backbone, strategy, cut, HeadSpec(classes, size))
    stride = backbone.cut_points[spec.cut].stride
    if size < stride:
        raise ValueError(f"--image-size {size} is smaller than the total stride of {target} at cut {spec.cut} "
                         f"({stride}): use at least {stride}")
    model = build_network(spec, backbone)
    about = {"model": target, "strategy": strategy, "cut": spec.cut, "image_size": size, "num_classes": classes}
    return model, backbone.input_shape(size), about


def profile(
    target: Annotated[str, typer.Argument(help="Backbone name (e.g. resnet50, see ttl cutpoints) or a run "
                                          "directory.")],
    strategy: Annotated[str | None, typer.Option(help="Strategy of the network built from a backbone name "
                                                 "(default: ttl with --cut, else ftl).")] = None,
    cut: Annotated[int | None, typer.Option(help="Cut point k (units kept above the stem).")] = None,
    image_size: Annotated[int | None, typer.Option(help="Input side in pixels (default 224, or the run's).")] = None,
    batch_size: Annotated[int, typer.Option(help="Batch size of the latency measurement.")] = 1,
    device: Annotated[str, typer.Option(help="cpu or cuda.")] = "cpu",
    num_classes: Annotated[int | None, typer.Option(help="Classes of the head (default 2; a run has its "
                                                    "own).")] = None,
    threads: Annotated[int | None, typer.Option(help="CPU threads for the measurement (default: "
                                                "PyTorch's).")] = None,
    warmup: Annotated[int, typer.Option(help="Untimed passes first.")] = 5,
    repeats: Annotated[int, typer.Option(help="Timed passes; their median and 90th percentile are reported.")] = 30,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")] = False,
    config: Path | None = ConfigOption,
) -> None:
    """What a model costs: parameters, MACs and latency.

    For a backbone's network at a cut, or a trained run's network: parameters, MACs (ptflops, one input) and
    latency (median and p90 of REPEATS passes after WARMUP, CUDA synchronised)."""
    if batch_size < 1 or repeats < 1 or warmup < 0:
        raise ValueError("--batch-size and --repeats must be at least 1, --warmup at least 0")
    model, input_shape, about = target_network(target, strategy, cut, image_size, num_classes)
    record = {**about, **measure(model, input_shape, batch_size, check_device(device), threads, warmup,
                                 repeats).as_dict(), "warmup": warmup}
    if as_json:
        typer.echo(json.dumps(record, indent=1))
        return
    typer.echo(f"{record['model']} {record['strategy']} cut {record['cut']} ({record['num_classes']} classes, "
               f"{record['image_size']}² input)")
    typer.echo(f"params   {record['params'] / 1e6:.2f} M")
    typer.echo(f"MACs     {record['macs'] / 1e9:.3f} G")
    typer.echo(f"latency  median {record['latency_ms_median']:.2f} ms, p90 {record['latency_ms_p90']:.2f} ms "
               f"(batch {record['batch_size']}, {record['device']}, {record['threads']} thread(s), "
               f"{record['repeats']} passes after {warmup} warm-up)")
