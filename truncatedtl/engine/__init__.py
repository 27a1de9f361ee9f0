"""Training: the loop, its callbacks and recipes, and one run end to end."""

from .callbacks import Callback, FitState, TrainingError
from .loop import FitResult, LoopConfig, evaluate, fit, predict
from .run import (
           LOGS,
           LoadedRun,
           Prepared,
           RunConfig,
           TrainedRun,
           check_config,
           check_writable,
           evaluate_checkpoint,
           load_run,
           prepare,
           run_task,
           save_run,
           train,
)

__all__ = ["Callback", "FitState", "FitResult", "LoadedRun", "LoopConfig", "Prepared", "RunConfig", "TrainedRun", "TrainingError", "LOGS", "check_config", "check_writable", "evaluate", "evaluate_checkpoint", "fit",
           "load_run", "predict", "prepare", "run_task", "save_run", "train"]
