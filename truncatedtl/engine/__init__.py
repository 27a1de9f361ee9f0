"""Training: the loop, metrics, and one run end to end."""

from .loop import FitResult, LoopConfig, TrainingError, evaluate, fit, predict
from .metrics import scores
from .run import Prepared, RunConfig, TrainedRun, check_config, load_run, prepare, save_run, train

__all__ = ["FitResult", "LoopConfig", "Prepared", "RunConfig", "TrainedRun", "TrainingError", "check_config", "evaluate", "fit",
           "load_run", "predict", "prepare", "save_run", "scores", "train"]
