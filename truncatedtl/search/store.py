"""The trial store: one JSON (and one checkpoint) per finished trial, written atomically, so that a killed
comparison or search resumes with the same command and loses at most the trial in flight."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict, replace
from pathlib import Path

from ..engine import RunConfig, TrainedRun
from ..evidence import Predictions, predictions_file
from ..files import write_checkpoint, write_json
from ..record import Trial, TrialRecord, read_record, write_record

STORE_CONFIG = "store.json"


def config_hash(values: dict) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


class TrialStore:
    """Finished trials of one run directory, and the other records a run keeps beside them.

    ``identity``: everything that makes results comparable (backbone, training settings, method); ``data``: the
    fingerprint of the data (:func:`truncatedtl.data.fingerprint`). A directory made with another identity or
    other data is refused unless ``force``, which starts over: its trials, checkpoints and records are removed
    and ``started_over`` is set."""

    OWNED = ("trials", "checkpoints", "records")

    def __init__(self, root: Path, identity: dict, force: bool = False, data: dict | None = None) -> None:
        self.root = Path(root)
        self.trials_dir = self.root / "trials"
        self.checkpoints_dir = self.root / "checkpoints"
        self.records_dir = self.root / "records"
        self.started_over = check_identity(self.root, identity, force, data)
        if self.started_over:
            for name in self.OWNED:
                shutil.rmtree(self.root / name, ignore_errors=True)
        self.trials_dir.mkdir(parents=True, exist_ok=True)
        self.checkpoints_dir.mkdir(parents=True, exist_ok=True)
        saved = _saved(self.root) if not self.started_over else None
        data = data if data is not None else (saved or {}).get("data")
        write_json(self.root / STORE_CONFIG, {"hash": config_hash(identity), "identity": identity, "data": data})

    def path(self, trial: Trial) -> Path:
        return self.trials_dir / f"{trial.key}.json"

    def get(self, trial: Trial) -> TrialRecord | None:
        path = self.path(trial)
        return read_record(path) if path.is_file() else None

    def predictions_path(self, trial: Trial | str, split: str) -> Path:
        """Where a trial's ``split`` predictions are kept: beside its JSON."""
        key = trial if isinstance(trial, str) else trial.key
        return self.trials_dir / f"{key}.{predictions_file(split)}"

    def predictions(self, trial: Trial | str, split: str) -> Predictions | None:
        """A trial's kept ``split`` predictions, or None where it has none (older records, test not read)."""
        path = self.predictions_path(trial, split)
        return Predictions.load(path) if path.is_file() else None

    def save(self, trial: Trial, run: TrainedRun) -> TrialRecord:
        """Persist a finished trial: checkpoint and predictions first, then its JSON (the JSON marks it
        finished)."""
        checkpoint = self.checkpoints_dir / f"{trial.key}.safetensors"
        write_checkpoint(checkpoint, run.state)
        for split, predictions in run.predictions.items():
            predictions.save(self.predictions_path(trial, split))
        record = replace(run.result, trial=trial.key, config=asdict(run.config), history=run.history,
                         checkpoint=str(checkpoint.relative_to(self.root)))
        self.update(trial, record)
        return record

    def update(self, trial: Trial, record: TrialRecord) -> None:
        """Save ``record`` as the record of ``trial`` (a measurement added to it)."""
        write_record(self.path(trial), record)

    def records(self) -> list[TrialRecord]:
        """Every finished trial, sorted by trial key."""
        return [read_record(p) for p in sorted(self.trials_dir.glob("*.json"))]

    def put(self, name: str, value: dict) -> None:
        """Keep a record other than a trial (an analysis, a measurement) atomically under ``records/``."""
        write_json(self.records_dir / f"{name}.json", value)

    def fetch(self, name: str) -> dict | None:
        path = self.records_dir / f"{name}.json"
        return json.loads(path.read_text()) if path.is_file() else None


def _saved(root: Path) -> dict | None:
    marker = Path(root) / STORE_CONFIG
    return json.loads(marker.read_text()) if marker.is_file() else None


def check_identity(root: Path, identity: dict, force: bool = False, data: dict | None = None) -> bool:
    """Whether a store at ``root`` made with another identity, or with other data than the fingerprint
    ``data`` (``None``: not known yet, not compared), must be started over (``force``); refuses it without
    ``force``, naming what differs. Writes nothing, so callers can check before any work."""
    saved = _saved(root)
    if saved is None:
        return False
    if saved.get("hash") != config_hash(identity):
        if force:
            return True
        before = saved.get("identity", {})
        changed = sorted(k for k in set(identity) | set(before) if identity.get(k) != before.get(k))
        raise FileExistsError(
            f"{root} holds trials made with another configuration (differs in: {', '.join(changed)}); "
            f"use another --out, or --force to start over")
    differences = data_changes(saved.get("data"), data)
    if not differences:
        return False
    if force:
        return True
    raise FileExistsError(
        f"{root} holds trials trained on other data than {data['source']} holds now ({'; '.join(differences)}); "
        f"restore the data, use another --out, or --force to start over")


def data_changes(before: dict | None, now: dict | None) -> list[str]:
    """What differs between two data fingerprints, one phrase per difference (none when either is unknown)."""
    if before is None or now is None or before == now:
        return []
    changes = []
    if before["source"] != now["source"]:
        changes.append(f"source was {before['source']}")
    if before["classes"] != now["classes"]:
        changes.append(f"classes were {', '.join(before['classes'])}, now {', '.join(now['classes'])}")
    if before["method"] != now["method"]:
        changes.append(f"fingerprinted by {before['method']} before, by {now['method']} now")
    for split in sorted(set(before["splits"]) | set(now["splits"])):
        was, is_ = before["splits"].get(split), now["splits"].get(split)
        if was == is_:
            continue
        if was is None or is_ is None:
            changes.append(f"split {split!r} {'appeared' if was is None else 'disappeared'}")
        elif was["count"] != is_["count"]:
            changes.append(f"split {split!r} had {was['count']} samples, now {is_['count']}")
        else:
            changes.append(f"split {split!r} has other files, contents or labels ({is_['count']} samples)")
    return changes or ["the fingerprint differs"]


def trial_config(base: RunConfig, trial: Trial) -> RunConfig:
    values = {**asdict(base), "strategy": trial.strategy, "cut": trial.cut, "seed": trial.seed}
    return RunConfig(**values)
