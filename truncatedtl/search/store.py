"""The trial store: one JSON (and one checkpoint) per finished trial, written atomically, so that a killed
comparison or search resumes with the same command and loses at most the trial in flight."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from ..engine import RunConfig, TrainedRun, write_json

STORE_CONFIG = "store.json"


@dataclass(frozen=True, order=True)
class Trial:
    """One model to train: a strategy at a cut point with one seed (repeat)."""

    strategy: str
    cut: int
    seed: int

    @property
    def key(self) -> str:
        return f"{self.strategy}-k{self.cut:03d}-s{self.seed}"


def config_hash(values: dict) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


class TrialStore:
    """Finished trials of one run directory.

    ``identity``: everything that makes results comparable (data, backbone, training settings, method);
    a directory made with another identity is refused unless ``force`` (which starts over)."""

    def __init__(self, root: Path, identity: dict, force: bool = False) -> None:
        self.root = Path(root)
        self.trials_dir = self.root / "trials"
        self.checkpoints_dir = self.root / "checkpoints"
        marker = self.root / STORE_CONFIG
        expected = {"hash": config_hash(identity), "identity": identity}
        if marker.is_file():
            saved = json.loads(marker.read_text())
            if saved.get("hash") != expected["hash"] and not force:
                changed = sorted(k for k in set(identity) | set(saved.get("identity", {}))
                                 if identity.get(k) != saved.get("identity", {}).get(k))
                raise FileExistsError(
                    f"{self.root} holds trials made with another configuration (differs in: "
                    f"{', '.join(changed)}); use another --out, or --force to start over")
            if force and saved.get("hash") != expected["hash"]:
                shutil.rmtree(self.trials_dir, ignore_errors=True)
                shutil.rmtree(self.checkpoints_dir, ignore_errors=True)
        self.trials_dir.mkdir(parents=True, exist_ok=True)
        self.checkpoints_dir.mkdir(parents=True, exist_ok=True)
        write_json(marker, expected)

    def path(self, trial: Trial) -> Path:
        return self.trials_dir / f"{trial.key}.json"

    def get(self, trial: Trial) -> dict | None:
        path = self.path(trial)
        return json.loads(path.read_text()) if path.is_file() else None

    def save(self, trial: Trial, run: TrainedRun) -> dict:
        """Persist a finished trial: checkpoint first, then its JSON (the JSON marks it finished)."""
        from safetensors.torch import save_file

        checkpoint = self.checkpoints_dir / f"{trial.key}.safetensors"
        tmp = checkpoint.with_name(f".{checkpoint.name}.tmp")
        save_file({k: v.contiguous() for k, v in run.state.items()}, str(tmp))
        tmp.replace(checkpoint)
        record = {**run.result, "trial": trial.key, "config": asdict(run.config), "history": run.history,
                  "checkpoint": str(checkpoint.relative_to(self.root))}
        write_json(self.path(trial), record)
        return record

    def records(self) -> list[dict]:
        """Every finished trial, sorted by trial key."""
        return [json.loads(p.read_text()) for p in sorted(self.trials_dir.glob("*.json"))]


def trial_config(base: RunConfig, trial: Trial) -> RunConfig:
    values = {**asdict(base), "strategy": trial.strategy, "cut": trial.cut, "seed": trial.seed}
    return RunConfig(**values)
