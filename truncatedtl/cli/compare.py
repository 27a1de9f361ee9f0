"""``ttl compare``: train several strategies side by side, with repeats, and write the comparison table."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer

from ..backbones import load_backbone
from ..compare import plan_comparison, run_comparison
from ..report.comparison import write_comparison_tables
from ._common import AUTO_WEIGHTS, MARGIN, ConfigOption, TrainingOptions, training_options, weights_or_random


def parse_cuts(text: str | None) -> tuple[int | None, dict[str, int]]:
    """``--cut``: ``K`` for every strategy that takes a cut, ``NAME=K`` pairs for some, or both (``K,ttl=11``)."""
    default, cuts = None, {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        name, _, value = part.rpartition("=")
        try:
            k = int(value)
        except ValueError:
            raise ValueError(f"--cut {text!r}: {part!r} is neither K nor NAME=K (e.g. --cut 13 or "
                             f"--cut ttl=11,tf=13)") from None
        if not name:
            default = k
        elif name in cuts:
            raise ValueError(f"--cut {text!r} gives {name} two cuts")
        else:
            cuts[name] = k
    return default, cuts


@training_options
def compare(
    options: TrainingOptions,
    out: Path = typer.Option(..., help="Comparison directory (created; rerun the same command to resume)."),
    strategies: str = typer.Option("ftl,linear,lwft,tf,ttl", help="Comma-separated strategies, in table order."),
    cut: str | None = typer.Option(None, help="Cut point K for every strategy that takes one, and/or per "
                                              "strategy: --cut ttl=11,tf=13,lwft=13."),
    repeats: int = typer.Option(3, help="Models per strategy, with training seeds 0..repeats-1."),
    weights: str = AUTO_WEIGHTS,
    device: str = typer.Option("cpu", help="cpu or cuda (training)."),
    threads: int = typer.Option(1, help="CPU threads for the latency measurement (stated in table.md)."),
    margin: float = MARGIN,
    force: bool = typer.Option(False, help="Start over when --out holds trials made with other settings."),
    config: Path | None = ConfigOption,
) -> None:
    """Train every strategy REPEATS times and write DIR/table.md, DIR/table.csv and DIR/report.json (test AUROC/AUPRC, or Jaccard/Dice for
    segmentation: mean with its 95 % interval, params, MACs, CPU and GPU latency; every strategy against FTL with a verdict at --margin)
    from DIR/trials/*.json, one record per trained model, and its kept predictions."""
    default_cut, cuts = parse_cuts(cut)
    names = [s.strip() for s in strategies.split(",") if s.strip()]
    base = options.run_config(names[0], weights, device)
    comparison = plan_comparison(load_backbone(base.backbone, "none"), names, cuts, default_cut, repeats, threads,
                                 margin)
    base = replace(base, weights=weights_or_random(base.backbone, base.weights))
    run_comparison(base, comparison, out, force, progress=lambda message: typer.echo(message, err=True))
    write_comparison_tables(out, show=typer.echo)
    typer.echo(f"tables written to {out / 'table.md'}, {out / 'table.csv'} and {out / 'report.json'}")
