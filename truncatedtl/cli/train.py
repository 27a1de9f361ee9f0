"""``ttl train``: train one model with one strategy and write its run directory."""

from __future__ import annotations

from pathlib import Path

import typer

from ..engine import LOGS, check_config, check_writable, prepare, save_run
from ..engine import train as train_run
from ..record import LABELS, shown_scores
from ._common import (
    ALLOW_MISSING_CLASSES,
    AUGMENT,
    BACKBONE,
    BATCH_SIZE,
    CACHE,
    DATA,
    DEDUPE,
    DEVICES,
    HIDDEN,
    IMAGE_SIZE,
    INFLATE,
    INFLATE_DEPTH,
    INTENSITY,
    LIMIT,
    LOGGER,
    LR,
    MASK_VALUES,
    MAX_EPOCHS,
    MEMORY_FORMAT,
    MONITOR,
    NUM_WORKERS,
    PATIENCE,
    POOL,
    PRECISION,
    RECIPE,
    SPLIT_SEED,
    TASK,
    WINDOW,
    ConfigOption,
    run_config,
    training_progress,
)


def train(
    data: str = DATA,
    backbone: str = BACKBONE,
    strategy: str = typer.Option(..., help="ftl, linear, ttl, lwft or tf."),
    out: Path = typer.Option(..., help="Run directory to create."),
    cut: int | None = typer.Option(None, help="Cut point k (units kept above the stem)."),
    image_size: int = IMAGE_SIZE,
    max_epochs: int = MAX_EPOCHS,
    batch_size: int = BATCH_SIZE,
    lr: float | None = LR,
    seed: int = typer.Option(0, help="Training seed (head init, shuffling, augmentation)."),
    split_seed: int = SPLIT_SEED,
    limit: int | None = LIMIT,
    num_workers: int = NUM_WORKERS,
    cache: str = CACHE,
    intensity: str = INTENSITY,
    allow_missing_classes: bool = ALLOW_MISSING_CLASSES,
    dedupe: bool = DEDUPE,
    weights: str = typer.Option("pretrained", help="'pretrained', 'none' or a .safetensors/.pth file."),
    pool: bool = POOL,
    hidden: int = HIDDEN,
    patience: int = PATIENCE,
    device: str = typer.Option("cpu", help="cpu or cuda."),
    task: str | None = TASK,
    mask_values: str | None = MASK_VALUES,
    recipe: str | None = RECIPE,
    monitor: str | None = MONITOR,
    precision: str = PRECISION,
    memory_format: str = MEMORY_FORMAT,
    devices: int = DEVICES,
    logger: str = LOGGER,
    augment: bool = AUGMENT,
    inflate: bool = INFLATE,
    inflate_depth: int = INFLATE_DEPTH,
    window: str | None = WINDOW,
    config: Path | None = ConfigOption,
) -> None:
    """Train a model with STRATEGY and write result.json, config.json, the best checkpoint and metrics.csv."""
    settings = run_config(locals())
    check_config(settings)
    check_writable(out)
    prepared = prepare(settings)
    with training_progress(f"{strategy} {backbone}") as progress:
        run = train_run(settings, prepared, progress, log_dir=out / LOGS)
    if not run.main:
        return
    r = run.result
    typer.echo(f"{strategy} {backbone} cut {r['cut']}: {r['params'] / 1e6:.2f} M params, "
               f"{r['macs'] / 1e9:.3f} GMACs, {r['epochs']} epochs in {r['seconds']:.0f} s")
    for split in ("val", "test"):
        ci = r.get(f"{split}_ci") or {}
        typer.echo(f"{split:<4} " + "  ".join(f"{LABELS[m]} {r[split][m]:.4f}"
                                              + (f" [{ci[m][0]:.4f}, {ci[m][1]:.4f}]" if m in ci else "")
                                              for m in shown_scores(r["task"])))
    for flag, text in (r.get("flags") or {}).items():
        typer.echo(f"flag {flag.replace('_', ' ')}: {text}")
    save_run(run, out)
    typer.echo(f"run written to {out}")
