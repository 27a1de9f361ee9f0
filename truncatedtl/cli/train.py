"""``ttl train``: train one model with one strategy and write its run directory."""

from __future__ import annotations

from pathlib import Path

import typer

from ..engine import RunConfig, check_config, prepare, save_run
from ..engine import train as train_run
from ._common import (
    BACKBONE,
    BATCH_SIZE,
    DATA,
    HIDDEN,
    IMAGE_SIZE,
    INFLATE,
    INFLATE_DEPTH,
    LIMIT,
    LR,
    MAX_EPOCHS,
    PATIENCE,
    POOL,
    SPLIT_SEED,
    WINDOW,
    ConfigOption,
    backbone_name,
    training_progress,
)


def check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FileExistsError(f"output directory {out} is not empty; choose another --out")


def train(
    data: str = DATA,
    backbone: str = BACKBONE,
    strategy: str = typer.Option(..., help="ftl, linear, ttl, lwft or tf."),
    out: Path = typer.Option(..., help="Run directory to create."),
    cut: int | None = typer.Option(None, help="Cut point k (units kept above the stem)."),
    image_size: int = IMAGE_SIZE,
    max_epochs: int = MAX_EPOCHS,
    batch_size: int = BATCH_SIZE,
    lr: float = LR,
    seed: int = typer.Option(0, help="Training seed (head init, shuffling, augmentation)."),
    split_seed: int = SPLIT_SEED,
    limit: int | None = LIMIT,
    weights: str = typer.Option("pretrained", help="'pretrained', 'none' or a .safetensors/.pth file."),
    pool: bool = POOL,
    hidden: int = HIDDEN,
    patience: int = PATIENCE,
    device: str = typer.Option("cpu", help="cpu or cuda."),
    inflate: bool = INFLATE,
    inflate_depth: int = INFLATE_DEPTH,
    window: str | None = WINDOW,
    config: Path | None = ConfigOption,
) -> None:
    """Train a model with STRATEGY and write result.json, config.json, the best checkpoint and metrics.csv."""
    check_out(out)
    backbone = backbone_name(backbone, inflate, inflate_depth)
    run_config = RunConfig(data=data, backbone=backbone, strategy=strategy, cut=cut, image_size=image_size,
                           max_epochs=max_epochs, batch_size=batch_size, lr=lr, seed=seed, split_seed=split_seed, limit=limit,
                           weights=weights, pool=pool, hidden=hidden, patience=patience, device=device,
                           window=window)
    check_config(run_config)
    prepared = prepare(run_config)
    with training_progress(f"{strategy} {backbone}") as progress:
        run = train_run(run_config, prepared, progress)
    save_run(run, out)
    r = run.result
    typer.echo(f"{strategy} {backbone} cut {r['cut']}: {r['params'] / 1e6:.2f} M params, "
               f"{r['macs'] / 1e9:.3f} GMACs, {r['epochs']} epochs in {r['seconds']:.0f} s")
    typer.echo(f"val  AUROC {r['val']['auroc']:.4f}  AUPRC {r['val']['auprc']:.4f}")
    typer.echo(f"test AUROC {r['test']['auroc']:.4f}  AUPRC {r['test']['auprc']:.4f}")
    typer.echo(f"run written to {out}")
