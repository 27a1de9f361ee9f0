"""Finding where to cut: trials, the resumable trial store, executors and search methods."""

from .executors import run_trials
from .store import Trial, TrialStore, trial_config

__all__ = ["Trial", "TrialStore", "run_trials", "trial_config"]
