"""``ttl search``: find the cut point, train the compact model and FTL, write the report."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer

from ..report.search import summary_lines
from ..search import SearchSettings
from ..search import search as run_search
from ..search.session import SELECT_DEFAULT, SVCCA_RULE_DEFAULT
from ._common import AUTO_WEIGHTS, MARGIN, ConfigOption, TrainingOptions, training_options, weights_or_random


@training_options
def search(
    options: TrainingOptions,
    method: str = typer.Option(..., help="two-stage, svcca, exhaustive (trained cuts), or an estimator: logme, "
                                         "hscore, pretrained-probe (no training before the final one), probe "
                                         "(one FTL training)."),
    out: Path = typer.Option(..., help="Search directory: created, or resumed when it holds the same search."),
    strategy: str = typer.Option("ttl", help="Strategy whose cut point is searched: ttl, tf or lwft."),
    repeats: int = typer.Option(3, help="Trainings per candidate (seeds 0..repeats-1); FTL gets as many."),
    select: str = typer.Option(SELECT_DEFAULT, help="two-stage, exhaustive: best (highest mean validation score) or "
                                                    "smallest-within-noise (the smallest cut within one standard "
                                                    "error of the best)."),
    margin: float = MARGIN,
    radius: int = typer.Option(2, help="two-stage: stage 2 tries cut points this close to the best boundary."),
    overlap_threshold: float = typer.Option(
        0.5, help="svcca: a cut point overlaps where its SVCCA coefficients overlap random ones by this much."),
    svcca_rule: str = typer.Option(SVCCA_RULE_DEFAULT, help="svcca: last-before (the last cut point before the "
                                   "first overlapping one) or first-overlap (the first overlapping cut point)."),
    test_every_cut: bool = typer.Option(False, "--test-every-cut", help="Score the test split in every trial "
                                        "(research curves); by default only the chosen model and FTL, at the end."),
    weights: str = AUTO_WEIGHTS,
    device: str = typer.Option("auto", help="cpu, cuda, or auto (cuda where the trials find a GPU)."),
    executor: str = typer.Option("local", help="local (this machine) or ray (Ray tasks)."),
    workers: int = typer.Option(1, help="local: trials trained at once, in separate processes."),
    ray_address: str | None = typer.Option(None, help="ray: address of an existing cluster (default: a local "
                                                       "instance)."),
    force: bool = typer.Option(False, "--force", help="Start over in a directory made with another configuration."),
    config: Path | None = ConfigOption,
) -> None:
    """Search the cut point by METHOD (on mean validation AUPRC over the repeats, Dice for segmentation, by the --select rule), train
    FTL alongside, and write OUT/report.md, report.json and auprc_by_cut.png (the chosen model against FTL with 95 % intervals and a
    verdict at --margin). Killed, the same command resumes."""
    base = options.run_config(strategy, weights, device)
    base = replace(base, weights=weights_or_random(base.backbone, base.weights))
    settings = SearchSettings(method=method, strategy=strategy, repeats=repeats, select=select, margin=margin,
                              radius=radius,
                              overlap_threshold=overlap_threshold, svcca_rule=svcca_rule,
                              test_every_cut=test_every_cut, executor=executor, workers=workers,
                              ray_address=ray_address)
    run_search(base, settings, out, force=force, progress=typer.echo,
               show=lambda report: typer.echo("\n" + "\n".join(summary_lines(report))))
    typer.echo(f"report written to {out / 'report.md'}")
