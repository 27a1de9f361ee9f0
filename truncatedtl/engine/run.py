"""One training run end to end: data + backbone + strategy → trained model, scores, cost, run directory."""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
import weakref
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from ..analysis.complexity import Profile, count_macs, count_params, measure_interleaved
from ..analysis.inference import Inference
from ..backbones import Backbone, available, load_backbone
from ..data import (
    DataError,
    DataSplits,
    check_data_options,
    sample_ids,
)
from ..data.cache import check_batch_memory
from ..evidence import Predictions, predictions_file, record_flags, split_intervals
from ..files import staged_directory, write_checkpoint, write_json, write_rows
from ..record import TrialRecord, from_known_keys, read_record
from ..spec import HeadSpec, ModelSpec
from ..tasks import build_network, get_task, resolve_task
from .callbacks import LoggerCallback
from .loop import LoopConfig, check_precision, evaluate_split, fit, make_fabric
from .memory_format import check_memory_format, choose_memory_format, torch_format
from .recipes import Recipe, get_recipe, resolve_monitor
from .tracking import log_record, trackers

CHECKPOINT = "model.safetensors"
# The key of ``config.json`` that holds the run's resolved model spec beside its options.
SPEC_KEY = "spec"
# Trackers' files (TensorBoard events) inside a run directory, written while it trains.
LOGS = "logs"


def check_writable(out: Path) -> None:
    """A run directory must be new (or hold only its trackers' logs) and creatable: say so before training."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(p.name != LOGS for p in out.iterdir())):
        raise FileExistsError(f"output directory {out} is not empty; choose another --out")
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise FileExistsError(f"--out {out}: {parent} is a file, so the directory cannot be created")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(f"--out {out}: {parent} is not writable; choose another --out")


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run; saved as ``config.json`` so the model can be rebuilt."""

    data: str
    backbone: str
    strategy: str
    cut: int | None = None
    image_size: int = 224
    max_epochs: int = 100
    batch_size: int = 64
    lr: float | None = None
    seed: int = 0
    split_seed: int = 0
    limit: int | None = None
    weights: str = "pretrained"
    pool: bool = True
    hidden: int = 0
    patience: int = 3
    device: str = "cpu"
    num_workers: int = 0
    cache: str = "auto"
    intensity: str = "dtype"
    allow_missing_classes: bool = False
    dedupe: bool = False
    task: str = "classification"
    recipe: str | None = None
    monitor: str | None = None
    precision: str = "32"
    devices: int = 1
    logger: str = "csv"
    augment: bool = True
    mask_values: str | None = None
    memory_format: str = "auto"

    def validate(self) -> None:
        """Refuse, before any work, an option no run can use (the message names it)."""
        _check_options(self)
        check_data_options(self.limit, self.num_workers, self.cache, self.intensity)

    @classmethod
    def from_dict(cls, values: dict) -> RunConfig:
        return from_known_keys(cls, values, "a run config")


LOGGERS = ("csv", "tensorboard", "mlflow")


def _check_options(c: RunConfig) -> None:
    positive = {"--max-epochs": c.max_epochs, "--image-size": c.image_size, "--batch-size": c.batch_size,
                "--devices": c.devices}
    for option, value in positive.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{option} must be a whole number of at least 1, got {value}")
    if c.limit is not None and c.limit < 1:
        raise ValueError(f"--limit must be at least 1 (samples per split), got {c.limit}")
    for option, value in {"--seed": c.seed, "--split-seed": c.split_seed}.items():
        if value < 0:
            raise ValueError(f"{option} must be 0 or more, got {value}")
    if c.hidden < 0:
        raise ValueError(f"--hidden must be 0 (linear head) or more, got {c.hidden}")
    if c.patience < 0:
        raise ValueError(f"--patience must be 0 or more, got {c.patience}")
    if c.lr is not None and not (math.isfinite(c.lr) and c.lr > 0):
        raise ValueError(f"--lr must be a finite number above 0, got {c.lr}")
    if c.device != "cpu" and not c.device.startswith("cuda"):
        raise ValueError(f"--device {c.device!r}: choose cpu or cuda (cuda:N for one GPU)")
    if c.device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"--device {c.device}: no CUDA GPU is available here; use --device cpu")
    if c.batch_size % c.devices:
        raise ValueError(f"--batch-size {c.batch_size} must be divisible by --devices {c.devices} (it is the "
                         f"global batch, split evenly over the devices)")
    unknown = sorted(set(c.logger.split(",")) - set(LOGGERS))
    if unknown:
        raise ValueError(f"--logger {c.logger!r}: unknown {', '.join(unknown)}; choose from {', '.join(LOGGERS)}")
    task = get_task(c.task)
    if c.recipe is not None:
        get_recipe(c.recipe)
    if c.monitor is not None:
        task.monitor(c.monitor)
    check_precision(c.precision, c.device)
    check_memory_format(c.memory_format)


@dataclass
class Prepared:
    """Data and backbone loaded once, shared by every run of a comparison or search, with the caches of
    preprocessed items (disk caches in ``cache_dir``; a temporary folder, removed with this object, if
    ``None``)."""

    data: DataSplits
    backbone: Backbone
    cache_dir: Path | None = None
    caches: dict[tuple, object] = field(default_factory=dict, repr=False)

    def __getstate__(self) -> dict:
        """Caches stay in their process (a disk cache is reopened by path, so it is still shared)."""
        return {**self.__dict__, "caches": {}}

    def cache_folder(self) -> Path:
        """Where disk caches live: ``cache_dir``, or a temporary folder removed with this object."""
        if self.cache_dir is None:
            self.cache_dir = Path(tempfile.mkdtemp(prefix="ttl-cache-"))
            weakref.finalize(self, shutil.rmtree, self.cache_dir, True)
        return self.cache_dir

    def dataset(self, split: str, config: RunConfig) -> Dataset:
        """``split`` as its task reads it (augmented in training)."""
        return get_task(config.task).dataset(self, split, config)

    def loader(self, split: str, config: RunConfig) -> DataLoader:
        generator = torch.Generator().manual_seed(config.seed)
        workers = config.num_workers
        return DataLoader(self.dataset(split, config), batch_size=config.batch_size // config.devices,
                          shuffle=split == "train", generator=generator, num_workers=workers,
                          persistent_workers=workers > 0)


def check_config(config: RunConfig) -> None:
    """Fail early, before data or weights are read: an option no run can use (:meth:`RunConfig.validate`, run
    once here), and what :func:`check_model` refuses."""
    config.validate()
    check_model(config)


def check_model(config: RunConfig) -> None:
    """An unknown backbone or strategy, a task the backbone does not serve, a cut point out of range, an input
    smaller than the network's total stride."""
    resolve_task(config.task, config.backbone)
    backbone = load_backbone(config.backbone, "none")
    spec = model_spec(config, backbone, 2)
    stride = backbone.cut_points[spec.cut].stride
    stride = max(stride) if isinstance(stride, tuple) else stride  # per axis where the axes differ
    if config.image_size < stride:
        raise ValueError(f"--image-size {config.image_size} is smaller than the total stride of {config.backbone} "
                         f"at cut {spec.cut} ({stride}): use at least {stride}")
    check_batch_memory(config.batch_size // config.devices, backbone.input_shape(config.image_size))


def check_compatible(data: DataSplits, backbone: Backbone) -> None:
    """Images go to 2D backbones and volumes to 3D ones; say which fit otherwise."""
    if data.spatial_dims == backbone.spatial_dims:
        return
    kind = {2: "images (2D)", 3: "volumes (3D)"}
    fitting = ", ".join(available(spatial_dims=data.spatial_dims)) or "none registered"
    inflate = " (or a 2D backbone with --inflate)" if data.spatial_dims == 3 else ""
    raise DataError(f"{data.source} holds {kind[data.spatial_dims]}; {backbone.name} is a {backbone.spatial_dims}D "
                    f"backbone; {data.spatial_dims}D backbones: {fitting}{inflate}")


def prepare(config: RunConfig, cache_dir: Path | None = None) -> Prepared:
    """Load and check the data (split with ``split_seed``) and the backbone with its weights; disk caches go to
    ``cache_dir`` (kept, so later runs reuse them) or a temporary folder. ``config`` is checked already
    (:func:`check_config`)."""
    data = get_task(config.task).load_data(config)
    backbone = load_backbone(config.backbone, config.weights)
    check_compatible(data, backbone)
    check_batch_memory(config.batch_size // config.devices, backbone.input_shape(config.image_size))
    return Prepared(data, backbone, cache_dir)


def model_spec(config: RunConfig, backbone: Backbone, num_classes: int) -> ModelSpec:
    """The model ``config`` trains on ``backbone`` with ``num_classes`` outputs, its cut resolved."""
    head = HeadSpec(num_classes, config.image_size, config.pool, config.hidden)
    return get_task(config.task).spec(backbone, config.strategy, config.cut, head)


def spec_of(config: RunConfig, record: TrialRecord) -> ModelSpec:
    """The spec of the model a record describes, read from it (its cut is the resolved one): for trial records
    and for run directories saved before ``config.json`` kept the spec."""
    head = HeadSpec(len(record.classes), config.image_size, config.pool, config.hidden)
    return ModelSpec(config.backbone, config.weights, record.strategy, record.cut, head, config.task)


def network_signature(config: RunConfig, backbone: Backbone, num_classes: int) -> tuple:
    """What makes two configs train the same model: the network's parameter names and shapes, and the training
    plan's groups (relative rate, size) and frozen units."""
    spec = model_spec(config, backbone, num_classes)
    task = get_task(spec.task)
    model = task.build(spec, backbone)
    plan = task.plan(spec, model, 1.0)
    shapes = tuple((name, tuple(value.shape)) for name, value in model.state_dict().items())
    groups = tuple(sorted((g["lr"], sum(p.numel() for p in g["params"])) for g in plan.param_groups))
    return shapes, groups, len(plan.frozen)


def recipe_of(config: RunConfig, spatial_dims: int) -> Recipe:
    """``--recipe``, or the default for the data: paper-3d for volumes, paper-2d for images."""
    return get_recipe(config.recipe or ("paper-3d" if spatial_dims == 3 else "paper-2d"))


@dataclass
class TrainedRun:
    """A trained model: its record (``result``), history, weights and per-sample predictions of each split it
    was scored on (val; test where read)."""

    config: RunConfig
    spec: ModelSpec
    result: TrialRecord
    history: list[dict]
    state: dict[str, torch.Tensor]
    main: bool = True
    predictions: dict[str, Predictions] = field(default_factory=dict)


def split_predictions(prepared: Prepared, split: str, arrays: dict[str, np.ndarray] | None) -> Predictions | None:
    """``split``'s per-sample outputs (an ``Evaluation.arrays``) with the ids and groups of its samples (None
    where the task keeps none)."""
    if arrays is None:
        return None
    data = prepared.data
    samples = data.splits()[split]
    items = samples.images if hasattr(samples, "images") else samples.items
    return Predictions(data.kind, sample_ids(items, data.source), groups=getattr(samples, "groups", None), **arrays)


def score_split(model: nn.Module, prepared: Prepared, split: str, config: RunConfig, fabric=None,
                ) -> tuple[dict[str, float], Predictions | None]:
    """Scores of ``model`` on ``split`` and its per-sample predictions there (None where its task keeps none)."""
    loader = prepared.loader(split, config)
    loader = fabric.setup_dataloaders(loader) if fabric is not None else loader
    scores, arrays = evaluate_split(model, loader, prepared.data.kind, config.device, task=get_task(config.task),
                                    fabric=fabric)
    return scores, split_predictions(prepared, split, arrays)


def train(config: RunConfig, prepared: Prepared | None = None, progress=None, log_dir: Path | None = None,
          evaluate_test: bool = True) -> TrainedRun:
    """Train ``config``; with ``evaluate_test``, evaluate its best-validation checkpoint once on the test split
    (a search leaves it out and evaluates only the models it reports, see ``evaluate_checkpoint``).

    ``log_dir``: where experiment trackers (``config.logger``) write; none without it. Under DDP every rank
    returns the same run; ``TrainedRun.main`` says which one writes."""
    prepared = prepared or prepare(config)
    data, backbone = prepared.data, prepared.backbone
    start = time.perf_counter()
    fabric = make_fabric(config.device, config.devices, config.precision)
    torch.manual_seed(config.seed)
    spec = model_spec(config, backbone, data.num_classes)
    task = get_task(spec.task)
    model = task.build(spec, backbone)
    recipe = recipe_of(config, backbone.spatial_dims)
    lr = config.lr if config.lr is not None else recipe.default_lr
    monitor = resolve_monitor(task, recipe, config.monitor)
    loop = LoopConfig(lr=lr, batch_size=config.batch_size, max_epochs=config.max_epochs,
                      plateau_patience=config.patience, device=config.device, recipe=recipe,
                      monitor=monitor, precision=config.precision, pretrained=config.weights != "none")
    loaders = {s: prepared.loader(s, config) for s in ("train", "val")}
    input_shape = backbone.input_shape(config.image_size)
    layout = choose_memory_format(config.memory_format, model, input_shape, fabric.device,
                                  config.batch_size // config.devices, len(loaders["train"]) * config.max_epochs)
    model = model.to(memory_format=torch_format(layout.name, backbone.spatial_dims))
    if fabric.world_size > 1:  # the same initial weights on every rank, each its own augmentation draws
        torch.manual_seed(config.seed + fabric.global_rank)
    loggers = trackers(config, log_dir) if log_dir is not None and fabric.is_global_zero else []
    callbacks = [LoggerCallback(loggers)] if loggers else []
    fitted = fit(model, task.plan(spec, model, lr), loaders["train"], loaders["val"], data.kind, loop, progress,
                 task=task, callbacks=callbacks, fabric=fabric)
    model.load_state_dict(fitted.best_state)
    kept = {"val": score_split(model, prepared, "val", config, fabric)[1]}
    test = None
    if evaluate_test:
        test, kept["test"] = score_split(model, prepared, "test", config, fabric)
    predictions = {split: p for split, p in kept.items() if p is not None}
    model = model.to(memory_format=torch.contiguous_format)
    record = TrialRecord(
        strategy=config.strategy, backbone=config.backbone, cut=spec.cut,
        params=count_params(model), macs=count_macs(model.cpu(), input_shape),
        epochs=fitted.epochs, best_epoch=fitted.best_epoch, seconds=round(time.perf_counter() - start, 3),
        val=fitted.best_val, test=test, seed=config.seed, image_size=config.image_size, weights=config.weights,
        data=config.data, task=data.kind, classes=data.classes,
        samples={s: len(v) for s, v in data.splits().items()}, notes=data.notes,
        recipe=recipe.name, lr=lr, monitor=monitor.name, memory_format=layout.as_dict(),
        val_ci=split_intervals(predictions["val"]) if "val" in predictions else None,
        test_ci=split_intervals(predictions["test"]) if "test" in predictions else None)
    record = replace(record, flags=record_flags(record, predictions) or None)
    log_record(loggers, record)
    return TrainedRun(config, spec, record, fitted.history, fitted.best_state, fabric.is_global_zero, predictions)


def evaluate_checkpoint(config: RunConfig, spec: ModelSpec, checkpoint: Path, prepared: Prepared,
                        split: str) -> tuple[dict[str, float], Predictions | None]:
    """Scores and per-sample predictions on ``split`` (read as ``config`` reads it) of the network of ``spec``
    holding the weights of
    ``checkpoint`` (safetensors: no code is executed): a saved trial evaluated later without retraining."""
    from safetensors.torch import load_file

    model = build_network(spec, prepared.backbone)
    model.load_state_dict(load_file(str(checkpoint)))
    return score_split(model, prepared, split, config)


def save_run(run: TrainedRun, out: Path) -> Path:
    """Write the run directory (config, result, checkpoint, per-epoch metrics) in a staging folder beside
    ``out`` and move it into place at the end: an interrupted save leaves no half-written ``out``."""
    out = Path(out)
    check_writable(out)
    with staged_directory(out, keep=(LOGS,)) as staging:
        write_json(staging / "config.json", {**asdict(run.config), SPEC_KEY: run.spec.to_dict()})
        write_json(staging / "result.json", run.result.to_dict())
        write_checkpoint(staging / CHECKPOINT, run.state)
        write_rows(staging / "metrics.csv", run.history)
        for split, predictions in run.predictions.items():
            predictions.save(staging / predictions_file(split))
    return out


def run_task(run_dir: Path) -> str:
    """The task of a run directory's model (from its config)."""
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} is not a run directory: config.json is missing")
    return json.loads(path.read_text()).get("task", "classification")


@dataclass
class LoadedRun:
    """A saved run: its trained network (eval mode, CPU), options, model spec and result."""

    model: nn.Module
    config: RunConfig
    spec: ModelSpec
    result: TrialRecord


def read_run(run_dir: Path) -> tuple[RunConfig, ModelSpec, TrialRecord]:
    """A saved run's options, model spec (the one its ``config.json`` holds; runs saved before it did: from the
    resolved cut of ``result.json``) and result, without building its network."""
    run_dir = Path(run_dir)
    for name in ("config.json", "result.json"):
        if not (run_dir / name).is_file():
            raise FileNotFoundError(f"{run_dir} is not a run directory: {name} is missing")
    values = json.loads((run_dir / "config.json").read_text())
    saved = values.pop(SPEC_KEY, None)
    config = RunConfig.from_dict(values)
    result = read_record(run_dir / "result.json")
    return config, ModelSpec.from_dict(saved) if saved is not None else spec_of(config, result), result


def load_run(run_dir: Path) -> LoadedRun:
    """Rebuild a saved run's network from its spec (:func:`read_run`) and load its checkpoint (safetensors: no
    code is executed)."""
    from safetensors.torch import load_file

    run_dir = Path(run_dir)
    config, spec, result = read_run(run_dir)
    if not (run_dir / CHECKPOINT).is_file():
        raise FileNotFoundError(f"{run_dir} is not a run directory: {CHECKPOINT} is missing")
    model = build_network(spec, load_backbone(spec.backbone, "none"))
    model.load_state_dict(load_file(str(run_dir / CHECKPOINT)))
    return LoadedRun(model.eval(), config, spec, result)


def trials_cost(records: dict[str, TrialRecord], root: Path, backbone: Backbone, threads: int,
                reference: dict[str, str]) -> dict[str, dict]:
    """Cost of trials' trained models (rebuilt from their records and checkpoints), all timed side by side in
    this process (interleaved rounds): params, MACs and latency of one image (batch 1) on CPU with ``threads``
    threads, and on the GPU where there is one (else ``None``). ``reference`` maps a trial key to the key it is
    compared with: its record gains ``ratio`` (latency over the reference's, median over rounds),
    ``ratio_spread`` [lowest, highest round] and ``versus`` (the reference's key)."""
    from safetensors.torch import load_file

    models = {}
    for key, record in records.items():
        spec = spec_of(RunConfig.from_dict(record.config), record)
        model = build_network(spec, backbone)
        model.load_state_dict(load_file(str(Path(root) / record.checkpoint)))
        models[key] = (model, backbone.input_shape(spec.head.image_size))
    macs = {key: count_macs(model, shape) for key, (model, shape) in models.items()}
    devices = {"cpu": Inference("cpu")}
    if torch.cuda.is_available():
        devices["gpu"] = Inference("cuda")
    costs: dict[str, dict] = {key: {"cpu": None, "gpu": None} for key in models}
    for name, settings in devices.items():
        timed = measure_interleaved(models, 1, settings, threads if name == "cpu" else None)
        for key, (model, _) in models.items():
            cost = Profile(count_params(model), macs[key], timed.latency(key)).as_dict()
            if key in reference:
                ratio, spread = timed.ratio(key, reference[key])
                cost.update(ratio=ratio, ratio_spread=list(spread), versus=reference[key])
            if name == "gpu":
                cost["name"] = torch.cuda.get_device_name()
            costs[key][name] = cost
    return costs
