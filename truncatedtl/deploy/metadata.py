"""The metadata that travels with a deployed model: how to preprocess its input and read its output.

Written as ``<model file>.json`` beside every export, so a consumer needs the two files and nothing else."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from torch import nn

from ..backbones import load_backbone
from ..engine import load_run
from ..engine.run import LoadedRun

# Names of the exported graph's input and output.
INPUT_NAME, OUTPUT_NAME = "image", "logits"
PREPROCESSING = ("map pixel values to 0-255 by the intensity policy (truncatedtl.data.intensity), center crop to a square (cube), resize to image_size (antialiased bilinear/trilinear, rounded "
                 "to uint8), repeat a gray channel to in_chans channels, scale to [0, 1], subtract mean and divide "
                 "by std per channel")


@dataclass(frozen=True)
class Metadata:
    """Everything a deployed model needs beside its weights. ``format`` is ``pytorch`` for a run directory's
    own checkpoint, ``onnx`` or ``torchscript`` for an export; ``dynamic_batch`` whether any batch size works
    (otherwise batch 1)."""

    backbone: str
    strategy: str
    cut: int
    image_size: int
    spatial_dims: int
    in_chans: int
    mean: list[float]
    std: list[float]
    classes: list[str]
    task: str
    intensity: str = "dtype"
    format: str = "pytorch"
    dynamic_batch: bool = True
    input_name: str = INPUT_NAME
    output_name: str = OUTPUT_NAME
    preprocessing: str = PREPROCESSING

    @property
    def input_shape(self) -> tuple[int, ...]:
        """(channels, *spatial) of one input."""
        return (self.in_chans,) + (self.image_size,) * self.spatial_dims

    @property
    def output(self) -> str:
        rule = "sigmoid per class" if self.task == "multilabel" else "softmax over classes"
        return f"{self.output_name} (N, {len(self.classes)}); probabilities = {rule}"

    def with_format(self, format: str, dynamic_batch: bool) -> Metadata:
        return replace(self, format=format, dynamic_batch=dynamic_batch)

    def as_dict(self) -> dict:
        return {**asdict(self), "input_shape": list(self.input_shape), "output": self.output}


def metadata_path(model_file: Path) -> Path:
    """Where the metadata of ``model_file`` lives: ``model.onnx`` → ``model.onnx.json``."""
    return model_file.with_name(model_file.name + ".json")


def read_metadata(model_file: Path) -> Metadata:
    path = metadata_path(model_file)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the metadata of {model_file} (write both with ttl export)")
    values = json.loads(path.read_text())
    known = {f.name for f in fields(Metadata)}
    return Metadata(**{k: v for k, v in values.items() if k in known})


def run_metadata(run_dir: Path, run: LoadedRun | None = None) -> tuple[nn.Module, Metadata]:
    """A run directory's network (eval mode, CPU) and its metadata (of ``run``, where it is loaded already)."""
    run = run or load_run(run_dir)
    config, result = run.config, run.result
    backbone = load_backbone(config.backbone, "none")
    metadata = Metadata(backbone=config.backbone, strategy=config.strategy, cut=run.spec.cut,
                        image_size=config.image_size, spatial_dims=backbone.spatial_dims, in_chans=backbone.in_chans,
                        mean=list(backbone.mean), std=list(backbone.std), classes=list(result.classes),
                        task=result.task, intensity=config.intensity)
    return run.model, metadata
