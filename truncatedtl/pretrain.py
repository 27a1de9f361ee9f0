"""Pretraining on a source task (SPEC §6, paper §IV-F): the whole network trained on medical data, written
as a source checkpoint that ``--weights DIR`` transfers from.

A source checkpoint is a directory: ``source.safetensors`` (the backbone in its timm layout, without the
source classifier) and ``source.json`` (backbone, source data, labels, scores, settings)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from .backbones import load_backbone, source_layout
from .backbones.weights import SOURCE_META, SOURCE_WEIGHTS
from .data import DataError, DataSplits, load_data
from .data.splits import check_classes
from .engine import Prepared, RunConfig, check_writable, train
from .files import staged_directory, write_checkpoint, write_json, write_rows


@dataclass(frozen=True)
class PretrainConfig:
    """Everything that defines a pretraining; saved in ``source.json``.

    ``run``: the full-network (FTL) training of the source task; ``labels``: the label columns to train on
    (multi-label data; default all); ``label_groups``: instead, named groups of columns, each trained as one
    label (positive where any member is); ``uncertain``: the policy for -1/blank cells of a multi-label CSV
    (``ignore``, ``zeros`` or ``ones``, as in CheXpert)."""

    run: RunConfig
    labels: tuple[str, ...] | None = None
    label_groups: dict[str, list[str]] | None = None
    uncertain: str | None = None

    def __post_init__(self) -> None:
        if self.run.strategy != "ftl":
            raise ValueError(f"pretraining trains the whole network (strategy ftl), not {self.run.strategy}")


def select_labels(labels: np.ndarray, classes: list[str], chosen: list[str]) -> np.ndarray:
    """Columns ``chosen`` of multi-label ``labels`` (N, C) → (N, len(chosen)); unknown names are an error."""
    unknown = [c for c in chosen if c not in classes]
    if unknown:
        raise DataError(f"--labels: no label column {', '.join(unknown)} (the data has {', '.join(classes)})")
    return labels[:, [classes.index(c) for c in chosen]]


def group_labels(labels: np.ndarray, classes: list[str], groups: dict[str, list[str]]) -> np.ndarray:
    """One label per group (N, C) → (N, G): 1 where any member is 1, else -1 (masked) where any member is
    masked, else 0."""
    out = []
    for name, members in groups.items():
        if not members:
            raise DataError(f"--label-groups: group {name!r} has no members")
        part = select_labels(labels, classes, members)
        out.append(np.where((part == 1).any(1), 1.0, np.where((part < 0).any(1), -1.0, 0.0)))
    return np.stack(out, axis=1).astype(np.float32)


def source_data(config: PretrainConfig) -> DataSplits:
    """The source data with the chosen labels (or label groups) as its classes."""
    run = config.run
    data = load_data(run.data, seed=run.split_seed, limit=run.limit, allow_missing_classes=run.allow_missing_classes,
                     dedupe=run.dedupe, uncertain=config.uncertain)
    if config.labels is None and config.label_groups is None:
        return data
    if config.labels is not None and config.label_groups is not None:
        raise ValueError("give either --labels or --label-groups, not both")
    if data.kind != "multilabel":
        raise DataError(f"--labels/--label-groups need multi-label data; {run.data} has one label per image")
    for split in (data.train, data.val, data.test):
        split.labels = (select_labels(split.labels, data.classes, list(config.labels)) if config.labels
                        else group_labels(split.labels, data.classes, config.label_groups))
    data.classes = list(config.labels) if config.labels else list(config.label_groups)
    check_classes(data)
    return data


def read_label_groups(path: Path) -> dict[str, list[str]]:
    """A YAML/JSON file mapping each group name to its label columns."""
    try:
        text = Path(path).read_text()
        groups = json.loads(text) if Path(path).suffix == ".json" else __import__("yaml").safe_load(text)
    except Exception as err:
        raise DataError(f"cannot read --label-groups {path}: {err}") from err
    if not isinstance(groups, dict) or not all(isinstance(v, list) for v in groups.values()):
        raise DataError(f"--label-groups {path} must map each group name to a list of label columns")
    return {str(k): [str(x) for x in v] for k, v in groups.items()}


def backbone_state(name: str, network_state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A trained full network's state (``body.*``, ``neck.*``, ``head.*``) → the backbone's timm layout,
    without the source classifier."""
    def part(prefix: str) -> dict[str, torch.Tensor]:
        return {k.removeprefix(prefix): v for k, v in network_state.items() if k.startswith(prefix)}

    return source_layout(name, part("body."), part("neck."))


def pretrain(config: PretrainConfig, progress=None) -> tuple[dict, dict[str, torch.Tensor], list[dict]]:
    """Train the whole network on the source task; returns the metadata, the backbone's tensors (timm
    layout) and the per-epoch history."""
    if config.uncertain not in (None, "ignore", "zeros", "ones"):
        raise ValueError(f"--uncertain must be ignore, zeros or ones, got {config.uncertain!r}")
    data = source_data(config)
    run = train(config.run, Prepared(data, load_backbone(config.run.backbone, config.run.weights)), progress)
    r = run.result
    meta = {
        "backbone": config.run.backbone, "initial_weights": config.run.weights, "data": config.run.data,
        "task": r.task, "labels": data.classes, "uncertain": config.uncertain,
        "label_groups": config.label_groups, "scores": {"val": r.val, "test": r.test},
        "epochs": r.epochs, "best_epoch": r.best_epoch, "seconds": r.seconds,
        "samples": r.samples, "notes": r.notes, "config": asdict(config),
    }
    return meta, backbone_state(config.run.backbone, run.state), run.history


def save_source(out: Path, meta: dict, state: dict[str, torch.Tensor], history: list[dict]) -> Path:
    """Write the source checkpoint in a staging folder beside ``out`` and move it into place at the end."""
    out = Path(out)
    check_writable(out)
    with staged_directory(out) as staging:
        write_checkpoint(staging / SOURCE_WEIGHTS, state)
        write_json(staging / SOURCE_META, meta)
        write_rows(staging / "metrics.csv", history)
    return out
