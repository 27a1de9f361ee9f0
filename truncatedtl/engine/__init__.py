"""Training: the loop, metrics, and one run end to end."""

from .loop import FitResult, LoopConfig, TrainingError, evaluate, fit, predict
from .metrics import scores
from .run import (
           LOGS,
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

__all__ = ["FitResult", "LoopConfig", "Prepared", "RunConfig", "TrainedRun", "TrainingError", "LOGS", "check_config", "check_writable", "evaluate", "evaluate_checkpoint", "fit",
           "load_run", "predict", "prepare", "run_task", "save_run", "scores", "train"]
