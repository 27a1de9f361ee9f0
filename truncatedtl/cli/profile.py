"""``ttl profile``: what a model costs — parameters, MACs and latency — for a backbone cut or a trained run."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from torch import nn

from ..analysis.complexity import Profile, count_macs, count_params, measure_interleaved
from ..analysis.inference import Inference
from ..backbones import input_side, load_backbone
from ..deploy import run_metadata
from ..spec import HeadSpec
from ..tasks import build_network, resolve_spec
from ._common import ConfigOption


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
                             f"{input_side(metadata.backbone, metadata.image_size)} inputs only")
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


def versus_network(versus: str, about: dict, image_size: int | None) -> tuple[nn.Module, tuple[int, ...], dict]:
    """The network ``--versus`` names: a run directory, or a strategy built on the first model's backbone with
    its classes and input size (``ftl``: the full network)."""
    if Path(versus).is_dir() or len(Path(versus).parts) > 1:
        return target_network(versus, None, None, image_size, None)
    try:
        return target_network(about["model"], versus, None, about["image_size"], about["num_classes"])
    except ValueError as err:
        raise ValueError(f"--versus {versus}: {err}") from err


def _latency_line(record: dict) -> str:
    return f"median {record['latency_ms_median']:.2f} ms, p90 {record['latency_ms_p90']:.2f} ms"


def profile(
    target: Annotated[str, typer.Argument(help="Backbone name (e.g. resnet50, see ttl cutpoints) or a run "
                                          "directory.")],
    strategy: Annotated[str | None, typer.Option(help="Strategy of the network built from a backbone name "
                                                 "(default: ttl with --cut, else ftl).")] = None,
    cut: Annotated[int | None, typer.Option(help="Cut point k (units kept above the stem).")] = None,
    versus: Annotated[str | None, typer.Option(help="Time a second model side by side in this process and report "
                                               "the latency ratio (TARGET / it) with its spread over rounds: a "
                                               "strategy of the same backbone (ftl: the full network) or a run "
                                               "directory.")] = None,
    image_size: Annotated[int | None, typer.Option(help="Input side in pixels (default 224, or the run's).")] = None,
    batch_size: Annotated[int, typer.Option(help="Batch size of the latency measurement.")] = 1,
    device: Annotated[str, typer.Option(help="cpu or cuda.")] = "cpu",
    precision: Annotated[str, typer.Option(help="32, bf16-mixed, or 16-mixed (GPU only): autocast at inference.")]
    = "32",
    cuda_graph: Annotated[bool, typer.Option("--cuda-graph", help="Capture each model in a CUDA graph and replay "
                                             "it (GPU only; batch-1 serving).")] = False,
    num_classes: Annotated[int | None, typer.Option(help="Classes of the head (default 2; a run has its "
                                                    "own).")] = None,
    threads: Annotated[int | None, typer.Option(help="CPU threads for the measurement (default: "
                                                "PyTorch's).")] = None,
    warmup: Annotated[int, typer.Option(help="Untimed passes first.")] = 5,
    repeats: Annotated[int, typer.Option(help="Timed passes per model, taken in rounds.")] = 30,
    rounds: Annotated[int, typer.Option(help="Rounds the timed passes are split into (at most REPEATS): each times "
                                        "every model in turn, and keeps the median of its passes.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")] = False,
    config: Path | None = ConfigOption,
) -> None:
    """What a model costs: parameters, MACs and latency; with --versus, its latency ratio to another model.

    For a backbone's network at a cut, or a trained run's network: parameters, MACs (ptflops, one input) and
    latency (median and p90 over ROUNDS rounds of the rounds' medians, after WARMUP passes, CUDA synchronised,
    cuDNN autotuning on). With --versus both models are timed in this process, in alternating rounds, and the
    ratio is the median of the per-round ratios; absolute latencies (on a GPU above all) vary from one process
    to the next, so compare models that way, not by two runs of ttl profile."""
    if batch_size < 1 or repeats < 1 or rounds < 1 or warmup < 0:
        raise ValueError("--batch-size, --repeats and --rounds must be at least 1, --warmup at least 0")
    settings = Inference(device, precision, cuda_graph)
    if threads is not None and threads < 1:
        raise ValueError(f"--threads must be at least 1, got {threads}")
    model, input_shape, about = target_network(target, strategy, cut, image_size, num_classes)
    models = {"target": (model, input_shape)}
    if versus is not None:
        other, other_shape, other_about = versus_network(versus, about, image_size)
        models["versus"] = (other, other_shape)
    timed = measure_interleaved(models, batch_size, settings, threads, warmup, repeats, rounds)
    record = {**about, **Profile(count_params(model), count_macs(model.cpu(), input_shape),
                                 timed.latency("target")).as_dict(), "warmup": warmup}
    if versus is not None:
        ratio, spread = timed.ratio("target", "versus")
        cost = Profile(count_params(other), count_macs(other.cpu(), other_shape), timed.latency("versus")).as_dict()
        record.update(versus={**other_about, **{k: cost[k] for k in ("params", "macs", "latency_ms_median",
                                                                    "latency_ms_p90")}},
                      ratio=ratio, ratio_spread=list(spread))
    else:
        typer.echo("note: absolute latencies vary from one process to the next (on a GPU by up to 1.5x): compare "
                   "two models with --versus, which times them side by side", err=True)
    if as_json:
        typer.echo(json.dumps(record, indent=1))
        return
    typer.echo(f"{record['model']} {record['strategy']} cut {record['cut']} ({record['num_classes']} classes, "
               f"{input_side(record['model'], record['image_size'])} input)")
    typer.echo(f"params   {record['params'] / 1e6:.2f} M")
    typer.echo(f"MACs     {record['macs'] / 1e9:.3f} G")
    how = (f"batch {record['batch_size']}, {record['device']}, {record['threads']} thread(s), precision "
           f"{record['precision']}{', CUDA graph' if cuda_graph else ''}, {record['rounds']} rounds of "
           f"{record['repeats'] // record['rounds']} pass(es) after {warmup} warm-up")
    typer.echo(f"latency  {_latency_line(record)} ({how})")
    if versus is not None:
        other = record["versus"]
        typer.echo(f"versus   {other['model']} {other['strategy']} cut {other['cut']}: params {other['params'] / 1e6:.2f} "
                   f"M, MACs {other['macs'] / 1e9:.3f} G, latency {_latency_line(other)}")
        low, high = record["ratio_spread"]
        typer.echo(f"ratio    latency {record['ratio']:.3f}x (rounds {low:.3f}x to {high:.3f}x, timed side by "
                   f"side), MACs {record['macs'] / other['macs']:.3f}x, params {record['params'] / other['params']:.3f}x")
