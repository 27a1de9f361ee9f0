"""Experiment tracking: per-epoch metrics and each trial's final record, where users already look at runs.

``csv`` is always written (``metrics.csv`` in the run directory); ``tensorboard`` writes event files under
``<log dir>/tensorboard``; ``mlflow`` logs to ``$MLFLOW_TRACKING_URI`` or a local ``./mlruns`` file store
(optional extra ``truncatedtl[track]``). Both are Lightning loggers; each gets the run's options as
hyperparameters, every epoch's row, and the final record's scores (``final/<split>_<score>``)."""

from __future__ import annotations

import os
from pathlib import Path

from ..record import TrialRecord


def trackers(config, log_dir: Path) -> list:
    """The Lightning loggers ``config.logger`` names (comma-separated; ``csv`` needs none)."""
    kinds = [k for k in config.logger.split(",") if k and k != "csv"]
    loggers = []
    for kind in kinds:
        if kind == "tensorboard":
            from lightning.fabric.loggers import TensorBoardLogger

            loggers.append(TensorBoardLogger(str(Path(log_dir) / "tensorboard"), name="", version=""))
        elif kind == "mlflow":
            try:
                import mlflow  # noqa: F401
                from lightning.pytorch.loggers import MLFlowLogger
            except ImportError as err:
                raise ValueError("--logger mlflow needs MLflow: pip install 'truncatedtl[track]'") from err
            uri = os.environ.get("MLFLOW_TRACKING_URI")
            if uri is None:  # the local file store; newer MLflow wants this said explicitly
                uri = f"file:{Path('mlruns').resolve()}"
                os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
            loggers.append(MLFlowLogger(experiment_name="truncatedtl", run_name=Path(log_dir).name,
                                        tracking_uri=uri))
    for logger in loggers:
        logger.log_hyperparams({k: v for k, v in vars(config).items() if v is not None})
    return loggers


def log_record(loggers: list, record: TrialRecord) -> None:
    """The final record's scores, once, then the loggers are closed."""
    scores = {f"final/{split}_{k}": v for split, values in (("val", record.val), ("test", record.test))
              for k, v in (values or {}).items()}
    for logger in loggers:
        logger.log_metrics(scores, step=record.epochs)
        logger.finalize("success")
