"""Shared pieces of the subcommands: the config-file option, errors as clear messages, progress bars."""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import get_type_hints

import typer

from ..backbones import inflated_name, resolve_weights
from ..data import CACHE_HELP, INTENSITY_HELP, DataError, parse_intensity
from ..engine import RunConfig
from ..engine.memory_format import MEMORY_FORMAT_HELP
from ..tasks import default_task


def _load_config(ctx: typer.Context, param: typer.CallbackParam, value: Path | None) -> Path | None:
    """Eager callback: options not given on the command line take their values from the YAML/JSON file."""
    if value is None:
        return value
    try:
        text = value.read_text()
        values = json.loads(text) if value.suffix == ".json" else __import__("yaml").safe_load(text)
    except Exception as err:
        raise typer.BadParameter(f"cannot read config file {value}: {err}") from err
    if not isinstance(values, dict):
        raise typer.BadParameter(f"config file {value} must hold a mapping of option names to values")
    names = {p.name for p in ctx.command.params}
    unknown = sorted(k for k in values if k.replace("-", "_") not in names)
    if unknown:
        raise typer.BadParameter(f"config file {value}: unknown options {', '.join(unknown)}")
    ctx.default_map = {**(ctx.default_map or {}), **{k.replace("-", "_"): v for k, v in values.items()}}
    return value


ConfigOption = typer.Option(None, "--config", help="YAML or JSON file of option values (command line wins).",
                            is_eager=True, callback=_load_config, exists=True, dir_okay=False)


@contextmanager
def training_progress(description: str) -> Iterator:
    """A progress bar over the batches of each epoch; yields the callback the training loop calls."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[loss]}"),
                  TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task(description, total=None, loss="")

        def update(epoch: int, batch: int, batches: int, loss: float) -> None:
            bar.update(task, description=f"{description} epoch {epoch}", completed=batch, total=batches,
                       loss=f"loss {loss:.4f}")

        yield update


# Options of the training commands: one definition each (those train, compare and search share are gathered in
# TrainingOptions below).
DATA = typer.Option(..., help="Dataset: ImageFolder dir, .npz, .csv manifest, or 'synthetic'.")
BACKBONE = typer.Option(..., help="Backbone name (see ttl cutpoints).")
INFLATE = typer.Option(False, "--inflate", help="Inflate the 2D backbone to 3D (I3D) for volumes: NAME@3d.")
INFLATE_DEPTH = typer.Option(3, help="Kernel depth of an inflated backbone (odd): NAME@3d:D.")
WINDOW = typer.Option(None, help="CT intensity window 'L,W' in HU for volumes (e.g. -600,1500).")
IMAGE_SIZE = typer.Option(224, help="Input side in pixels.")
MAX_EPOCHS = typer.Option(100, help="Epoch cap per training (training also stops when LR < 1e-7).")
BATCH_SIZE = typer.Option(64, help="Images per optimizer step.")
LR = typer.Option(None, help="Learning rate η (default: the recipe's, 1e-4 for paper-2d, 0.01 for paper-3d; LWFT "
                             "trains its lower layers at η/10).")
SPLIT_SEED = typer.Option(0, help="Seed of the train/val/test split where the data has none.")
LIMIT = typer.Option(None, help="At most N samples per split (stratified), for quick runs.")
PATIENCE = typer.Option(3, help="paper-2d: epochs without gain of the monitored score before the LR halves.")
TASK = typer.Option(None, help="classification (binary, multi-class, multi-label) or segmentation (masks); default: "
                               "the backbone's own (segmentation for the U-Net encoders unet_<encoder>, else "
                               "classification).")
MASK_VALUES = typer.Option(None, help="segmentation: mask pixel value of each class, e.g. 0,255 or 0,1,2 (default: "
                                      "binary masks of 0/1 or 0/255).")
RECIPE = typer.Option(None, help="paper-2d (Adam, plateau halving, stop at LR < 1e-7) or paper-3d (SGD momentum 0.9, "
                                 "cosine; pretrained weights at 0.1 x LR); default: paper-3d for volumes, else paper-2d.")
MONITOR = typer.Option(None, help="Validation score to select the checkpoint on: auprc, auroc or loss (default: the "
                                  "recipe's, auprc for paper-2d, auroc for paper-3d).")
PRECISION = typer.Option("32", help="32, bf16-mixed, or 16-mixed (GPU only).")
DEVICES = typer.Option(1, help="Devices for one training (DDP through Lightning Fabric: gloo on CPU, NCCL on GPU); "
                               "--batch-size is the global batch, split over them.")
LOGGER = typer.Option("csv", help="Trackers, comma-separated: csv (always), tensorboard, mlflow "
                                  "(pip install 'truncatedtl\\[track]').")
AUGMENT = typer.Option(True, "--augment/--no-augment", help="Random crop and slight rotation of training images.")
POOL = typer.Option(True, "--pool/--no-pool", help="Average-pool the features before the head.")
HIDDEN = typer.Option(0, help="Hidden units of an MLP head (0 = linear head).")
NUM_WORKERS = typer.Option(0, help="DataLoader worker processes that decode, preprocess and augment images "
                                    "(0: in the training process).")
CACHE = typer.Option("auto", help=CACHE_HELP)
INTENSITY = typer.Option("dtype", help=f"How pixel values map to the model's input range: {INTENSITY_HELP}. "
                                       "Recorded in the run's config; predict uses the same.")
ALLOW_MISSING_CLASSES = typer.Option(False, "--allow-missing-classes",
                                     help="Accept a val/test split lacking a class (3+ classes): metrics average over "
                                          "the classes present; the result's notes name those left out.")
DEDUPE = typer.Option(False, "--dedupe", help="CSV manifests: keep the first row of an image listed twice "
                                              "(default: refused).")
MEMORY_FORMAT = typer.Option("auto", help=MEMORY_FORMAT_HELP)
MARGIN = typer.Option(0.02, help="Margin δ of the verdicts against FTL: non-inferior where the 95 % interval of "
                                  "the test difference lies above −δ (recorded in the report).")
AUTO_WEIGHTS = typer.Option("auto", help="'pretrained', 'none', a .safetensors/.pth file, or 'auto': pretrained "
                                         "where available here, else none (stated in the report).")


def _option(declared) -> dict:
    return {"option": declared}


@dataclass(frozen=True)
class TrainingOptions:
    """The options ``train``, ``compare`` and ``search`` share, declared once (each field's typer option in its
    metadata); :func:`training_options` adds them to a command, which receives them as this object."""

    data: str = field(metadata=_option(DATA))
    backbone: str = field(metadata=_option(BACKBONE))
    image_size: int = field(metadata=_option(IMAGE_SIZE))
    max_epochs: int = field(metadata=_option(MAX_EPOCHS))
    batch_size: int = field(metadata=_option(BATCH_SIZE))
    lr: float | None = field(metadata=_option(LR))
    split_seed: int = field(metadata=_option(SPLIT_SEED))
    limit: int | None = field(metadata=_option(LIMIT))
    num_workers: int = field(metadata=_option(NUM_WORKERS))
    cache: str = field(metadata=_option(CACHE))
    intensity: str = field(metadata=_option(INTENSITY))
    allow_missing_classes: bool = field(metadata=_option(ALLOW_MISSING_CLASSES))
    dedupe: bool = field(metadata=_option(DEDUPE))
    pool: bool = field(metadata=_option(POOL))
    hidden: int = field(metadata=_option(HIDDEN))
    patience: int = field(metadata=_option(PATIENCE))
    task: str | None = field(metadata=_option(TASK))
    mask_values: str | None = field(metadata=_option(MASK_VALUES))
    recipe: str | None = field(metadata=_option(RECIPE))
    monitor: str | None = field(metadata=_option(MONITOR))
    precision: str = field(metadata=_option(PRECISION))
    devices: int = field(metadata=_option(DEVICES))
    logger: str = field(metadata=_option(LOGGER))
    augment: bool = field(metadata=_option(AUGMENT))
    inflate: bool = field(metadata=_option(INFLATE))
    inflate_depth: int = field(metadata=_option(INFLATE_DEPTH))
    window: str | None = field(metadata=_option(WINDOW))

    def run_config(self, strategy: str, weights: str, device: str, cut: int | None = None, seed: int = 0) -> RunConfig:
        """The run these options describe with the command's own ``strategy``, ``weights``, ``device``, ``cut``
        and ``seed``: ``--backbone NAME --inflate [--inflate-depth D]`` names the inflated backbone ``NAME@3d[:D]``;
        ``--window L,W`` is the intensity policy ``window:L,W``; the task defaults to the backbone's."""
        backbone = inflated_name(self.backbone, self.inflate_depth) if self.inflate else self.backbone
        intensity = self.intensity
        if self.window is not None:
            if intensity != "dtype":
                raise ValueError("--window and --intensity both set how values map to the input range; give one")
            intensity = f"window:{self.window}"
            try:
                parse_intensity(intensity)
            except DataError as err:
                raise ValueError(f"--window {self.window!r}: give the level and width in HU, two finite numbers "
                                 f"L,W with W above 0 (e.g. -600,1500)") from err
        return RunConfig(
            data=self.data, backbone=backbone, strategy=strategy, cut=cut, image_size=self.image_size,
            max_epochs=self.max_epochs, batch_size=self.batch_size, lr=self.lr, seed=seed, split_seed=self.split_seed,
            limit=self.limit, weights=weights, pool=self.pool, hidden=self.hidden, patience=self.patience,
            device=device, num_workers=self.num_workers, cache=self.cache, intensity=intensity,
            allow_missing_classes=self.allow_missing_classes, dedupe=self.dedupe,
            task=self.task or default_task(self.backbone), recipe=self.recipe, monitor=self.monitor,
            precision=self.precision, devices=self.devices, logger=self.logger, augment=self.augment,
            mask_values=self.mask_values)


def training_options(command):
    """``command`` with the :class:`TrainingOptions` options added before its ``--config``, handed to it as its
    ``options`` parameter."""
    own = inspect.signature(command, eval_str=True)
    hints = get_type_hints(TrainingOptions)
    shared = [inspect.Parameter(f.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=f.metadata["option"],
                                annotation=hints[f.name]) for f in fields(TrainingOptions)]
    params = [p for p in own.parameters.values() if p.name not in ("options", "config")]
    params += shared + [own.parameters["config"]]

    @functools.wraps(command)
    def run(**values):
        options = TrainingOptions(**{f.name: values.pop(f.name) for f in fields(TrainingOptions)})
        return command(options=options, **values)

    run.__signature__ = own.replace(parameters=params)
    run.__annotations__ = {p.name: p.annotation for p in params} | {"return": own.return_annotation}
    return run


def weights_or_random(backbone: str, weights: str) -> str:
    """Resolve ``--weights auto``, warning on stderr when it falls back to random init."""
    resolved, fallback = resolve_weights(backbone, weights)
    if fallback:
        typer.echo(f"warning: {fallback}\nwarning: --weights auto: training from random init (weights none)",
                   err=True)
    return resolved
