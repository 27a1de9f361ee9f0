"""The public Python API: the concepts of the CLI as plain functions, for notebooks and training loops of
one's own (``truncatedtl.create_model`` in the spirit of ``timm.create_model``). The ``ttl`` commands are thin
layers over the same functions.

- :func:`create_model`: a plain ``nn.Module`` cut at a cut point, with a new head;
- :func:`cut_points`, :func:`load_backbone`: where a backbone can be cut, and the backbone as a chain of units;
- :func:`train`, :func:`load_run`: one model trained (and its run directory written), a run read back;
- :func:`search`: the cut point found by a search method, with its report;
- :func:`svcca`: SVCCA coefficients of two feature matrices; :func:`profile`: params, MACs and latency."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from .analysis.complexity import profile
from .analysis.svcca import svcca
from .backbones import Backbone, cut_points, load_backbone
from .engine import RunConfig, TrainedRun, check_config, load_run, save_run
from .engine import train as _train
from .search import search_cut as search
from .spec import HeadSpec, ModelSpec
from .tasks import build_network, resolve_spec

__all__ = ["create_model", "cut_points", "load_backbone", "load_run", "model_spec", "profile", "search", "svcca",
           "train"]


def model_spec(backbone: str | Backbone, cut: int | None = None, num_classes: int = 2, weights: str | Path = "none",
               strategy: str | None = None, image_size: int = 224, pool: bool = True, hidden: int = 0,
               task: str | None = None) -> tuple[ModelSpec, Backbone]:
    """The resolved spec of the model :func:`create_model` builds, and its backbone (loaded where named)."""
    backbone = backbone if isinstance(backbone, Backbone) else load_backbone(backbone, weights)
    strategy = strategy or ("ttl" if cut is not None else "ftl")
    spec = resolve_spec(backbone, strategy, cut, HeadSpec(num_classes, image_size, pool, hidden), task)
    return spec, backbone


def create_model(backbone: str | Backbone, cut: int | None = None, num_classes: int = 2,
                 weights: str | Path = "none", strategy: str | None = None, image_size: int = 224,
                 pool: bool = True, hidden: int = 0, task: str | None = None) -> nn.Module:
    """A plain ``nn.Module``: ``strategy`` (default ``ttl`` with a ``cut``, else ``ftl``) on ``backbone`` with a new
    head of ``num_classes`` outputs (for segmentation, a U-Net decoder for ``num_classes`` mask classes).

    ``task`` defaults to the first the backbone serves; ``image_size`` matters only for an unpooled head
    (``pool=False``). Nothing above the cut is built."""
    spec, backbone = model_spec(backbone, cut, num_classes, weights, strategy, image_size, pool, hidden, task)
    return build_network(spec, backbone)


def train(data: str, backbone: str, strategy: str = "ttl", cut: int | None = None, out: str | Path | None = None,
          **options) -> TrainedRun:
    """Train one model as ``ttl train`` does (``options``: the fields of :class:`RunConfig`, e.g. ``image_size``,
    ``max_epochs``, ``weights``); with ``out``, write its run directory (which :func:`load_run` reads)."""
    config = RunConfig(data=data, backbone=backbone, strategy=strategy, cut=cut, **options)
    check_config(config)
    run = _train(config)
    if out is not None:
        save_run(run, Path(out))
    return run
