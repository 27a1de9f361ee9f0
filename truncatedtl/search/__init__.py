"""Finding where to cut: trials, the resumable trial store, executors and search methods.

The package itself is callable, as ``truncatedtl.search(data, backbone, out, ...)`` (:func:`search_cut`): the
public API's ``search`` and this package share one name."""

import sys
import types
from dataclasses import fields
from pathlib import Path

from ..engine import RunConfig
from .executors import EXECUTORS, run_trials
from .runner import METHODS, search
from .session import SearchSettings
from .store import Trial, TrialStore, trial_config

__all__ = ["EXECUTORS", "METHODS", "SearchSettings", "Trial", "TrialStore", "run_trials", "search", "search_cut",
           "trial_config"]


def search_cut(data: str, backbone: str, out: str | Path, method: str = "two-stage", strategy: str = "ttl",
               **options) -> dict:
    """Search the cut point as ``ttl search`` does and return the report (``report.json``'s content).
    ``options``: the fields of :class:`SearchSettings` (``repeats``, ``radius`` …) and of
    :class:`~truncatedtl.engine.RunConfig` (``image_size``, ``max_epochs``, ``weights`` …)."""
    names = {f.name for f in fields(SearchSettings)}
    settings = SearchSettings(method=method, strategy=strategy, **{k: v for k, v in options.items() if k in names})
    base = RunConfig(data=data, backbone=backbone, strategy=strategy, **{k: v for k, v in options.items()
                                                                          if k not in names})
    return search(base, settings, Path(out))


class _CallablePackage(types.ModuleType):
    def __call__(self, *args, **kwargs) -> dict:
        return search_cut(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
