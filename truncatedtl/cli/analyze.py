"""``ttl analyze``: how much a finetuned run's features changed at each cut point (SVCCA), with the plots."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from ..analysis.capture import Progress
from ..analysis.inference import Inference
from ..analysis.transferability import transferability
from ..backbones import BackboneError, load_backbone
from ..data import load_data
from ..engine import Prepared, load_run
from ..engine.run import model_spec
from ..report.plots import draw
from ..tasks import build_network, get_task
from ._common import ConfigOption

RECORD = "svcca.json"
SPLITS = ("val", "test")


@contextmanager
def batch_progress(description: str) -> Iterator[Progress]:
    """A progress bar over batches; yields the callback ``capture`` calls."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    with Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
             transient=True) as bar:
        task = bar.add_task(description, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _check_options(samples: int | None, positions: int, keep: float, split: str, out: Path,
                   search: Path | None) -> None:
    if samples is not None and samples < 2:
        raise ValueError(f"--samples must be at least 2, got {samples}")
    if positions < 1:
        raise ValueError(f"--positions must be at least 1, got {positions}")
    if not 0 < keep <= 1:
        raise ValueError(f"--keep must lie in (0, 1], got {keep}")
    if split not in SPLITS:
        raise ValueError(f"--split must be one of {', '.join(SPLITS)}, got {split!r}")
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"--out {out} exists and is not a directory")
    if (out / RECORD).exists():
        raise FileExistsError(f"--out {out} already holds {RECORD}; choose another --out")
    if search is not None and not search.is_dir():
        raise FileNotFoundError(f"--search {search} is not a directory")


def analyze(
    run: Annotated[Path, typer.Option(help="Run directory of the finetuned model (from ttl train).")],
    out: Annotated[Path, typer.Option(help=f"Directory for {RECORD} and the plots.")],
    reference: Annotated[str, typer.Option(help="Weights of the reference network: 'pretrained' (the "
                                           "backbone's pretrained weights) or a .safetensors/.pth file.")]
    = "pretrained",
    data: Annotated[str | None, typer.Option(help="Dataset whose images are fed (default: the run's data).")]
    = None,
    split: Annotated[str, typer.Option(help="Held-out split whose images are fed: val or test.")] = "val",
    samples: Annotated[int | None, typer.Option(help="At most N images of the split (stratified).")] = 500,
    positions: Annotated[int, typer.Option(help="At most this many spatial positions per image and cut point, "
                                           "drawn at random with --seed (data points = images x positions).")]
    = 16,
    seed: Annotated[int, typer.Option(help="Seed of the position subsampling and the random baselines.")] = 0,
    keep: Annotated[float, typer.Option(help="Share of variance PCA keeps on each side before CCA.")] = 0.99,
    search: Annotated[Path | None, typer.Option(help="Search directory whose trials/*.json give the TTL "
                                                "AUPRC-per-cut curve (the run directory's are used too).")]
    = None,
    batch_size: Annotated[int, typer.Option(help="Images per forward pass.")] = 64,
    device: Annotated[str, typer.Option(help="cpu or cuda.")] = "cpu",
    config: Path | None = ConfigOption,
) -> None:
    """SVCCA between the reference (pretrained) and the finetuned features at every cut point, against
    random features of the same shapes; writes svcca.json and the plots (per cut, per block, block to block)."""
    _check_options(samples, positions, keep, split, out, search)
    Inference(device)  # refuses a device this machine does not have
    try:
        loaded = load_run(run)
    except FileNotFoundError as err:
        raise FileNotFoundError(f"--run: {err}") from err
    finetuned, run_config = loaded.model, loaded.config
    if not get_task(run_config.task).feature_search:
        raise ValueError(f"--run {run} is a {run_config.task} run; ttl analyze compares the features of "
                         f"classification backbones (train one with ttl train on class-labelled data)")
    try:
        backbone = load_backbone(run_config.backbone, reference)
    except BackboneError as err:
        raise BackboneError(f"--reference: {err}") from err
    data = data or run_config.data
    prepared = Prepared(load_data(data, seed=run_config.split_seed, limit=samples), backbone)
    config = replace(run_config, strategy="ftl", cut=None, batch_size=batch_size)
    pretrained = build_network(model_spec(config, backbone, len(loaded.result.classes)), backbone)
    with batch_progress(f"SVCCA {run_config.backbone}") as progress:
        analysis = transferability(pretrained, finetuned, prepared.loader(split, config), backbone,
                                   positions=positions, seed=seed, keep=keep, device=device, progress=progress)
    analysis = replace(analysis, reference=f"{run_config.backbone} ({reference})",
                       finetuned=f"{run_config.strategy} ({Path(run).name})", data=f"{data} ({split} split)")

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.staging-"))
    try:
        analysis.save(staging / RECORD)
        written = draw(staging / RECORD, staging, [run] + ([search] if search else []))
        out.mkdir(exist_ok=True)
        for path in written + [staging / RECORD]:
            path.replace(out / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    typer.echo(f"{analysis.samples} images, data points per cut = images x min({positions}, positions in the map)")
    typer.echo(" cut block channels data-pts  mean(ft)  mean(rand)  overlap   CKA")
    for c in analysis.cuts:
        typer.echo(f"{c.cut:4d} {c.block:5d} {c.channels[0]:8d} {c.data_points:8d} {np.mean(c.coefficients):9.3f}"
                   f" {np.mean(c.random):11.3f} {c.overlap:8.3f} {c.cka:5.3f}")
    for b in analysis.blocks:
        typer.echo(f"B{b.blocks[0]}-B{b.blocks[1]} {b.model:10s} mean {np.mean(b.coefficients):.3f} "
                   f"(random {np.mean(b.random):.3f})")
    typer.echo(f"written to {out}: {RECORD}, " + ", ".join(p.name for p in written))
