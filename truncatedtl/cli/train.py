"""``ttl train``: train one model with one strategy and write its run directory."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer

from ..engine import LOGS, check_config, check_writable, prepare, save_run
from ..engine import train as train_run
from ..tasks import score_label, task_of_kind
from ._common import MEMORY_FORMAT, ConfigOption, TrainingOptions, training_options, training_progress


@training_options
def train(
    options: TrainingOptions,
    strategy: str = typer.Option(..., help="ftl, linear, ttl, lwft or tf."),
    out: Path = typer.Option(..., help="Run directory to create."),
    cut: int | None = typer.Option(None, help="Cut point k (units kept above the stem)."),
    seed: int = typer.Option(0, help="Training seed (head init, shuffling, augmentation)."),
    weights: str = typer.Option("pretrained", help="'pretrained', 'none' or a .safetensors/.pth file."),
    device: str = typer.Option("cpu", help="cpu or cuda."),
    memory_format: str = MEMORY_FORMAT,
    config: Path | None = ConfigOption,
) -> None:
    """Train a model with STRATEGY and write result.json, config.json, the best checkpoint and metrics.csv."""
    settings = replace(options.run_config(strategy, weights, device, cut, seed), memory_format=memory_format)
    check_config(settings)
    check_writable(out)
    prepared = prepare(settings)
    with training_progress(f"{strategy} {options.backbone}") as progress:
        run = train_run(settings, prepared, progress, log_dir=out / LOGS)
    if not run.main:
        return
    r = run.result
    typer.echo(f"{strategy} {options.backbone} cut {r.cut}: {r.params / 1e6:.2f} M params, "
               f"{r.macs / 1e9:.3f} GMACs, {r.epochs} epochs in {r.seconds:.0f} s")
    for split in ("val", "test"):
        scores, ci = getattr(r, split), getattr(r, f"{split}_ci") or {}
        typer.echo(f"{split:<4} " + "  ".join(f"{score_label(m)} {scores[m]:.4f}"
                                              + (f" [{ci[m][0]:.4f}, {ci[m][1]:.4f}]" if m in ci else "")
                                              for m in task_of_kind(r.task).shown))
    for flag, text in (r.flags or {}).items():
        typer.echo(f"flag {flag.replace('_', ' ')}: {text}")
    save_run(run, out)
    typer.echo(f"run written to {out}")
