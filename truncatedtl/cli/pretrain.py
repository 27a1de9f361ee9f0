"""``ttl pretrain``: train the whole network on a source task and write a source checkpoint."""

from __future__ import annotations

from pathlib import Path

import typer

from ..engine import RunConfig, check_config, check_writable
from ..pretrain import PretrainConfig, read_label_groups, save_source
from ..pretrain import pretrain as pretrain_source
from ..tasks import default_task
from ._common import (
    BACKBONE,
    BATCH_SIZE,
    DATA,
    IMAGE_SIZE,
    LIMIT,
    LR,
    MAX_EPOCHS,
    PATIENCE,
    SPLIT_SEED,
    ConfigOption,
    training_progress,
)


def pretrain(
    data: str = DATA,
    backbone: str = BACKBONE,
    out: Path = typer.Option(..., help="Source checkpoint directory to create (give it to --weights later)."),
    weights: str = typer.Option("pretrained", help="Start from 'pretrained', 'none', a .safetensors/.pth file "
                                                    "or another source checkpoint directory."),
    labels: str | None = typer.Option(None, help="Multi-label data: the label columns to train on, a,b,c "
                                                 "(default all)."),
    label_groups: Path | None = typer.Option(None, exists=True, dir_okay=False,
                                             help="Multi-label data: YAML/JSON file {group: [columns]}; each "
                                                  "group is one label, positive where any member is."),
    uncertain: str | None = typer.Option(None, help="Multi-label CSV cells of -1 (uncertain) and blank (not "
                                                    "mentioned, read as 0): ignore (mask -1 out of loss and "
                                                    "scores), zeros or ones (-1 read as 0 / 1)."),
    image_size: int = IMAGE_SIZE,
    max_epochs: int = MAX_EPOCHS,
    batch_size: int = BATCH_SIZE,
    lr: float | None = LR,
    seed: int = typer.Option(0, help="Training seed (head init, shuffling, augmentation)."),
    split_seed: int = SPLIT_SEED,
    limit: int | None = LIMIT,
    patience: int = PATIENCE,
    device: str = typer.Option("cpu", help="cpu or cuda."),
    config: Path | None = ConfigOption,
) -> None:
    """Train BACKBONE whole on the source DATA and write source.safetensors + source.json to OUT."""
    check_writable(out)
    chosen = tuple(x.strip() for x in labels.split(",") if x.strip()) if labels else None
    groups = read_label_groups(label_groups) if label_groups else None
    run = RunConfig(data=data, backbone=backbone, strategy="ftl", image_size=image_size, max_epochs=max_epochs,
                    batch_size=batch_size, lr=lr, seed=seed, split_seed=split_seed, limit=limit, weights=weights,
                    patience=patience, device=device, task=default_task(backbone))
    source = PretrainConfig(run, labels=chosen, label_groups=groups, uncertain=uncertain)
    check_config(source.run)
    with training_progress(f"pretrain {backbone}") as progress:
        meta, state, history = pretrain_source(source, progress)
    s = meta["scores"]
    typer.echo(f"pretrained {backbone} on {data} ({meta['task']}, {len(meta['labels'])} labels), "
               f"{meta['epochs']} epochs in {meta['seconds']:.0f} s")
    typer.echo(f"val  AUROC {s['val']['auroc']:.4f}  AUPRC {s['val']['auprc']:.4f}")
    typer.echo(f"test AUROC {s['test']['auroc']:.4f}  AUPRC {s['test']['auprc']:.4f}")
    save_source(out, meta, state, history)
    typer.echo(f"source checkpoint written to {out} (use it with --weights {out})")
