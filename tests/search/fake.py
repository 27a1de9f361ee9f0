"""A session whose trainings are a table lookup: search methods tested without training anything."""

from __future__ import annotations

from types import SimpleNamespace

from truncatedtl.backbones import load_backbone
from truncatedtl.engine import Prepared
from truncatedtl.search.session import Session
from truncatedtl.search.store import Trial

from .tiny import settings, tiny_base


def fake_session(method: str, val_auprc: dict[int, float], **values) -> tuple[Session, list[Trial]]:
    """A session on resnet18 where the searched strategy at cut k scores ``val_auprc[k]`` (FTL 0.5; ttl at cut 8
    builds FTL's network, so FTL stands for it); also returns the list every trial asked for is appended to.
    ``values``: search settings (``select`` best unless given)."""
    asked: list[Trial] = []

    def run(trials: list[Trial]) -> list[SimpleNamespace]:
        """Stand-ins of the trial records with what a session reads of them: the trial key and val scores."""
        asked.extend(trials)
        return [SimpleNamespace(trial=t.key, val={"auprc": 0.5 if t.strategy == "ftl" else val_auprc[t.cut]})
                for t in trials]

    prepared = Prepared(data=None, backbone=load_backbone("resnet18"))
    values.setdefault("select", "best")
    return Session(tiny_base(), settings(method, **values), store=NoPredictions(), prepared=prepared, run=run), asked


class NoPredictions:
    """A store that kept no predictions: one repeat's standard error is unknown."""

    def predictions(self, trial, split):
        return None
