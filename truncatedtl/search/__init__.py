"""Finding where to cut: trials, the resumable trial store, executors and search methods."""

from .executors import EXECUTORS, run_trials
from .runner import METHODS, search
from .session import SearchSettings
from .store import Trial, TrialStore, trial_config

__all__ = ["EXECUTORS", "METHODS", "SearchSettings", "Trial", "TrialStore", "run_trials", "search", "trial_config"]
