"""Running trials: in this process one after another, in ``workers`` local processes, or as Ray tasks.

Every executor skips trials the store already holds, and the store persists each trial in this process as
soon as its result arrives: a killed run loses only the trials in flight. A trial's result depends on its
config and seed only, so every executor yields the same records."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed

import torch

from ..engine import Prepared, RunConfig, TrainedRun, prepare, train
from ..record import TrialRecord
from ..tasks import score_label, task_of_kind
from .store import Trial, TrialStore, trial_config

EXECUTORS = ("local", "ray")

_WORKER_PREPARED: Prepared | None = None


def run_trials(trials: list[Trial], base: RunConfig, store: TrialStore, executor: str = "local",
               prepared: Prepared | None = None, progress: Callable[[str], None] | None = None,
               workers: int = 1, ray_address: str | None = None, evaluate_test: bool = True) -> list[TrialRecord]:
    """Train every trial not yet in ``store``; returns the records of all ``trials`` in their order.

    ``evaluate_test``: whether each trial also scores the test split (a search leaves it to the end).
    ``workers`` > 1 trains that many trials at once in local processes (``local`` executor); ``ray`` runs
    each trial as a Ray task on the instance ``ray_address`` names (default: a local one)."""
    check_executor(executor, workers)
    todo = [t for t in trials if store.get(t) is None]
    if todo:
        prepared = prepared or prepare(base)
        if executor == "ray":
            finished = _ray_trials(todo, base, prepared, ray_address, evaluate_test)
        elif workers > 1:
            finished = _process_trials(todo, base, prepared, workers, evaluate_test)
        else:
            finished = ((t, train(trial_config(base, t), prepared, evaluate_test=evaluate_test)) for t in todo)
        if progress is not None:
            progress(f"training {len(todo)} trial(s): {', '.join(t.key for t in todo)}")
        for i, (trial, run) in enumerate(finished, start=1):
            if progress is not None:  # before the save: a full disk loses no score
                score = task_of_kind(run.result.task).selected
                progress(f"[{i}/{len(todo)}] {trial.key}: val {score_label(score)} {run.result.val[score]:.4f} "
                         f"({run.result.seconds:.0f} s)")
            store.save(trial, run)
    return [store.get(t) for t in trials]


def check_executor(executor: str, workers: int) -> None:
    """Fail before any work on an unknown executor, a worker count below 1, or Ray missing."""
    if executor not in EXECUTORS:
        raise ValueError(f"unknown --executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
    if workers < 1:
        raise ValueError(f"--workers must be at least 1, got {workers}")
    if executor == "ray":
        if workers != 1:
            raise ValueError("--workers is for the local executor; Ray runs as many trials at once as the "
                             "cluster's CPUs (or GPUs) allow")
        import_ray()


def import_ray():
    """The ``ray`` module, imported only when the Ray executor is used."""
    try:
        import ray
    except ImportError as err:
        raise ValueError("--executor ray needs Ray: pip install 'truncatedtl[ray]'") from err
    return ray


def _init_worker(prepared: Prepared, threads: int) -> None:
    global _WORKER_PREPARED
    _WORKER_PREPARED = prepared
    torch.set_num_threads(threads)


def _train_in_worker(config: RunConfig, evaluate_test: bool) -> TrainedRun:
    assert _WORKER_PREPARED is not None
    return train(config, _WORKER_PREPARED, evaluate_test=evaluate_test)


def _process_trials(todo: list[Trial], base: RunConfig, prepared: Prepared, workers: int,
                    evaluate_test: bool) -> Iterator[tuple[Trial, TrainedRun]]:
    """Trials in ``workers`` spawned processes sharing this machine's threads; yields them as they finish."""
    threads = max(1, torch.get_num_threads() // workers)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(workers, len(todo)), mp_context=context, initializer=_init_worker,
                             initargs=(prepared, threads)) as pool:
        futures = {pool.submit(_train_in_worker, trial_config(base, t), evaluate_test): t for t in todo}
        for future in as_completed(futures):
            yield futures[future], future.result()


def connect_ray(address: str | None):
    """Connect to the Ray cluster at ``address``, or start a local instance (unless this process is already
    connected); returns the ``ray`` module."""
    ray = import_ray()
    if not ray.is_initialized():
        local = {} if address else {"include_dashboard": False}
        ray.init(address=address, log_to_driver=False, configure_logging=False, **local)
    return ray


def resolve_device(device: str, executor: str, ray_address: str | None) -> str:
    """``auto``: ``cuda`` where the trials will find a GPU (this machine, or the Ray cluster), else ``cpu``."""
    if device != "auto":
        return device
    if executor == "ray":
        return "cuda" if connect_ray(ray_address).cluster_resources().get("GPU", 0) else "cpu"
    return "cuda" if torch.cuda.is_available() else "cpu"


def _ray_trials(todo: list[Trial], base: RunConfig, prepared: Prepared, address: str | None,
                evaluate_test: bool) -> Iterator[tuple[Trial, TrainedRun]]:
    """Each trial a Ray task holding one CPU, and one GPU when it trains on CUDA; yields them as they
    finish. The prepared data and backbone travel once through the object store."""
    ray = connect_ray(address)
    gpus = 1 if base.device.startswith("cuda") else 0
    if gpus and not ray.cluster_resources().get("GPU", 0):
        raise ValueError(f"--device {base.device} but the Ray cluster has no GPU; use --device cpu")
    task = ray.remote(num_cpus=1, num_gpus=gpus)(train)
    shared = ray.put(prepared)
    pending = {task.remote(trial_config(base, t), shared, evaluate_test=evaluate_test): t for t in todo}
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            yield pending.pop(done[0]), ray.get(done[0])
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
