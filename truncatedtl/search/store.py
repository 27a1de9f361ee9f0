"""The trial store: one JSON (and one checkpoint) per finished trial, written atomically, so that a killed
comparison or search resumes with the same command and loses at most the trial in flight."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict
from pathlib import Path

from ..engine import RunConfig, TrainedRun
from ..files import atomic_path, write_json
from ..record import Trial, TrialRecord

STORE_CONFIG = "store.json"


def config_hash(values: dict) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


class TrialStore:
    """Finished trials of one run directory, and the other records a run keeps beside them.

    ``identity``: everything that makes results comparable (data, backbone, training settings, method);
    a directory made with another identity is refused unless ``force``, which starts over: its trials,
    checkpoints and records are removed and ``started_over`` is set."""

    OWNED = ("trials", "checkpoints", "records")

    def __init__(self, root: Path, identity: dict, force: bool = False) -> None:
        self.root = Path(root)
        self.trials_dir = self.root / "trials"
        self.checkpoints_dir = self.root / "checkpoints"
        self.records_dir = self.root / "records"
        self.started_over = check_identity(self.root, identity, force)
        if self.started_over:
            for name in self.OWNED:
                shutil.rmtree(self.root / name, ignore_errors=True)
        self.trials_dir.mkdir(parents=True, exist_ok=True)
        self.checkpoints_dir.mkdir(parents=True, exist_ok=True)
        write_json(self.root / STORE_CONFIG, {"hash": config_hash(identity), "identity": identity})

    def path(self, trial: Trial) -> Path:
        return self.trials_dir / f"{trial.key}.json"

    def get(self, trial: Trial) -> dict | None:
        path = self.path(trial)
        return json.loads(path.read_text()) if path.is_file() else None

    def save(self, trial: Trial, run: TrainedRun) -> dict:
        """Persist a finished trial: checkpoint first, then its JSON (the JSON marks it finished)."""
        from safetensors.torch import save_file

        checkpoint = self.checkpoints_dir / f"{trial.key}.safetensors"
        with atomic_path(checkpoint) as tmp:
            save_file({k: v.contiguous() for k, v in run.state.items()}, str(tmp))
        record = TrialRecord(**run.result, trial=trial.key, config=asdict(run.config), history=run.history,
                             checkpoint=str(checkpoint.relative_to(self.root))).to_dict()
        write_json(self.path(trial), record)
        return record

    def records(self) -> list[dict]:
        """Every finished trial, sorted by trial key."""
        return [json.loads(p.read_text()) for p in sorted(self.trials_dir.glob("*.json"))]

    def put(self, name: str, value: dict) -> None:
        """Keep a record other than a trial (an analysis, a measurement) atomically under ``records/``."""
        write_json(self.records_dir / f"{name}.json", value)

    def fetch(self, name: str) -> dict | None:
        path = self.records_dir / f"{name}.json"
        return json.loads(path.read_text()) if path.is_file() else None


def check_identity(root: Path, identity: dict, force: bool = False) -> bool:
    """Whether a store at ``root`` made with another identity must be started over (``force``); refuses
    it without ``force``. Writes nothing, so callers can check before any work."""
    marker = Path(root) / STORE_CONFIG
    if not marker.is_file():
        return False
    saved = json.loads(marker.read_text())
    if saved.get("hash") == config_hash(identity):
        return False
    if not force:
        before = saved.get("identity", {})
        changed = sorted(k for k in set(identity) | set(before) if identity.get(k) != before.get(k))
        raise FileExistsError(
            f"{root} holds trials made with another configuration (differs in: {', '.join(changed)}); "
            f"use another --out, or --force to start over")
    return True


def trial_config(base: RunConfig, trial: Trial) -> RunConfig:
    values = {**asdict(base), "strategy": trial.strategy, "cut": trial.cut, "seed": trial.seed}
    return RunConfig(**values)
