"""One training run end to end: data + backbone + strategy → trained model, scores, cost, run directory."""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from ..analysis.complexity import count_macs, count_params, profile
from ..backbones import Backbone, load_backbone
from ..data import DataError, DataSplits, ImageDataset, load_data, preprocess
from ..data.volumes import parse_window
from ..strategies import HeadSpec, build, get_strategy
from ..surgery import Network
from .loop import LoopConfig, evaluate, fit

CHECKPOINT = "model.safetensors"


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
    lr: float = 1e-4
    seed: int = 0
    split_seed: int = 0
    limit: int | None = None
    weights: str = "pretrained"
    pool: bool = True
    hidden: int = 0
    patience: int = 3
    device: str = "cpu"
    window: str | None = None

    @classmethod
    def from_dict(cls, values: dict) -> RunConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        return cls(**values)


@dataclass
class Prepared:
    """Data and backbone loaded once, shared by every run of a comparison or search."""

    data: DataSplits
    backbone: Backbone
    images: dict[tuple[str, int], torch.Tensor] = field(default_factory=dict)

    def tensors(self, split: str, image_size: int, window: str | None = None) -> torch.Tensor:
        key = (split, image_size, window)
        if key not in self.images:
            self.images[key] = preprocess(self.data.splits()[split], image_size, self.data.spatial_dims,
                                          parse_window(window))
        return self.images[key]

    def loader(self, split: str, config: RunConfig) -> DataLoader:
        train = split == "train"
        dataset = ImageDataset(self.tensors(split, config.image_size, config.window), self.data.splits()[split].labels,
                               self.backbone.mean, self.backbone.std, train=train,
                               in_chans=self.backbone.in_chans)
        generator = torch.Generator().manual_seed(config.seed)
        return DataLoader(dataset, batch_size=config.batch_size, shuffle=train, generator=generator)


def check_config(config: RunConfig) -> None:
    """Fail early on an unknown backbone or strategy, or a cut point out of range (no weights loaded)."""
    get_strategy(config.strategy).resolve_cut(load_backbone(config.backbone, "none"), config.cut)


def prepare(config: RunConfig) -> Prepared:
    """Load and check the data (split with ``split_seed``) and the backbone with its weights."""
    data = load_data(config.data, seed=config.split_seed, limit=config.limit)
    backbone = load_backbone(config.backbone, config.weights)
    if data.spatial_dims != backbone.spatial_dims:
        kinds = {2: "2D images", 3: "volumes"}
        raise DataError(f"data {config.data} holds {kinds[data.spatial_dims]} but backbone {config.backbone} takes "
                        f"{kinds[backbone.spatial_dims]}" + (" (a 2D backbone takes volumes with --inflate)"
                                                             if data.spatial_dims == 3 else ""))
    return Prepared(data, backbone)


def build_network(config: RunConfig, backbone: Backbone, num_classes: int) -> Network:
    head = HeadSpec(num_classes, config.image_size, config.pool, config.hidden)
    return build(config.strategy, backbone, config.cut, head)


@dataclass
class TrainedRun:
    config: RunConfig
    result: dict
    history: list[dict]
    state: dict[str, torch.Tensor]


def train(config: RunConfig, prepared: Prepared | None = None, progress=None) -> TrainedRun:
    """Train ``config`` and evaluate its best-validation checkpoint once on the test split."""
    prepared = prepared or prepare(config)
    data, backbone = prepared.data, prepared.backbone
    start = time.perf_counter()
    torch.manual_seed(config.seed)
    strategy = get_strategy(config.strategy)
    cut = strategy.resolve_cut(backbone, config.cut)
    model = build_network(config, backbone, data.num_classes)
    loop = LoopConfig(lr=config.lr, batch_size=config.batch_size, max_epochs=config.max_epochs,
                      plateau_patience=config.patience, device=config.device)
    loaders = {s: prepared.loader(s, config) for s in ("train", "val", "test")}
    fitted = fit(model, strategy.plan(model, config.lr), loaders["train"], loaders["val"], data.task, loop, progress)
    model.load_state_dict(fitted.best_state)
    test = evaluate(model, loaders["test"], data.task, config.device)
    input_shape = (backbone.in_chans,) + (config.image_size,) * backbone.spatial_dims
    result = {
        "strategy": config.strategy, "backbone": config.backbone, "cut": cut,
        "params": count_params(model), "macs": count_macs(model.cpu(), input_shape),
        "epochs": fitted.epochs, "best_epoch": fitted.best_epoch,
        "seconds": round(time.perf_counter() - start, 3),
        "val": fitted.best_val, "test": test,
        "seed": config.seed, "image_size": config.image_size, "weights": config.weights,
        "data": config.data, "task": data.task, "classes": data.classes,
        "samples": {s: len(v) for s, v in data.splits().items()}, "notes": data.notes,
    }
    return TrainedRun(config, result, fitted.history, fitted.best_state)


def write_json(path: Path, value) -> None:
    """Write JSON atomically: temporary file, fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        json.dump(value, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def save_run(run: TrainedRun, out: Path) -> Path:
    """Write the run directory (config, result, checkpoint, per-epoch metrics) in a staging folder beside
    ``out`` and move it into place at the end: an interrupted save leaves no half-written ``out``."""
    from safetensors.torch import save_file

    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"output directory {out} is not empty; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.staging-"))
    try:
        write_json(staging / "config.json", asdict(run.config))
        write_json(staging / "result.json", run.result)
        save_file({k: v.contiguous() for k, v in run.state.items()}, str(staging / CHECKPOINT))
        with open(staging / "metrics.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(run.history[0]))
            writer.writeheader()
            writer.writerows(run.history)
        if out.exists():
            out.rmdir()
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def load_run(run_dir: Path) -> tuple[Network, RunConfig, dict]:
    """Rebuild a saved run's network and load its checkpoint (safetensors: no code is executed)."""
    from safetensors.torch import load_file

    run_dir = Path(run_dir)
    for name in ("config.json", "result.json", CHECKPOINT):
        if not (run_dir / name).is_file():
            raise FileNotFoundError(f"{run_dir} is not a run directory: {name} is missing")
    config = RunConfig.from_dict(json.loads((run_dir / "config.json").read_text()))
    result = json.loads((run_dir / "result.json").read_text())
    backbone = load_backbone(config.backbone, "none")
    model = build_network(config, backbone, len(result["classes"]))
    model.load_state_dict(load_file(str(run_dir / CHECKPOINT)))
    return model.eval(), config, result


def trial_cost(record: dict, root: Path, backbone: Backbone, threads: int) -> dict:
    """Cost of a trial's trained model (rebuilt from its record and checkpoint): params, MACs and latency of
    one image (batch 1) on CPU with ``threads`` threads, and on the GPU where there is one (else ``None``)."""
    from safetensors.torch import load_file

    config = RunConfig.from_dict(record["config"])
    model = build_network(config, backbone, len(record["classes"]))
    model.load_state_dict(load_file(str(Path(root) / record["checkpoint"])))
    shape = (backbone.in_chans,) + (config.image_size,) * backbone.spatial_dims
    cost = {"cpu": profile(model, shape, batch_size=1, device="cpu", threads=threads).as_dict(), "gpu": None}
    if torch.cuda.is_available():
        cost["gpu"] = {**profile(model, shape, batch_size=1, device="cuda").as_dict(),
                       "name": torch.cuda.get_device_name()}
    return cost
