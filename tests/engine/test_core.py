"""The core: recipes plug a strategy's groups into their optimiser, the monitored score picks the checkpoint,
options are refused before any work, DDP on 2 CPU processes matches one, trackers write what they say."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from truncatedtl.backbones import load_backbone
from truncatedtl.engine import RunConfig, train
from truncatedtl.engine.recipes import get_recipe
from truncatedtl.engine.run import model_spec
from truncatedtl.strategies import get_strategy
from truncatedtl.tasks import build_network

TINY = {"data": "synthetic", "backbone": "resnet18", "image_size": 32, "max_epochs": 2, "limit": 32,
        "weights": "none", "batch_size": 16}
ARGS = ["--data", "synthetic", "--backbone", "resnet18", "--image-size", "32", "--max-epochs", "1", "--limit", "32",
        "--weights", "none"]


def _groups(strategy: str, cut: int | None, recipe: str, pretrained: bool) -> list[dict]:
    config = RunConfig(strategy=strategy, cut=cut, **TINY)
    backbone = load_backbone("resnet18")
    spec = model_spec(config, backbone, 2)
    model = build_network(spec, backbone)
    plan = get_strategy(strategy).plan(model, 0.01, spec.cut)
    chosen = get_recipe(recipe)
    return chosen.optimizer(chosen.groups(plan.param_groups, pretrained)).param_groups


def test_paper_3d_trains_pretrained_weights_at_a_tenth_of_new_ones():
    groups = _groups("tf", 4, "paper-3d", pretrained=True)
    lrs = {g["pretrained"]: g["lr"] for g in groups}
    assert lrs == {True: pytest.approx(0.001), False: pytest.approx(0.01)}
    assert all(g["momentum"] == 0.9 for g in groups)
    # random init: every weight is new
    assert {g["lr"] for g in _groups("tf", 4, "paper-3d", pretrained=False)} == {0.01}
    # LWFT keeps its own η/10 for the finetuned units, scaled again as pretrained
    lwft = {g["pretrained"]: g["lr"] for g in _groups("lwft", 4, "paper-3d", pretrained=True)}
    assert lwft == {False: pytest.approx(0.01), True: pytest.approx(0.0001)}


def test_paper_2d_is_adam_at_the_plan_rates():
    groups = _groups("ttl", 4, "paper-2d", pretrained=True)
    assert {g["lr"] for g in groups} == {0.01} and "betas" in groups[0]


def test_paper_3d_runs_a_cosine_schedule_and_monitors_auroc():
    run = train(RunConfig(strategy="ttl", cut=2, recipe="paper-3d", **{**TINY, "max_epochs": 3}))
    lrs = [h["lr"] for h in run.history]
    assert run.result.recipe == "paper-3d" and run.result.monitor == "auroc" and run.result.lr == 0.01
    # the LR each epoch trained at: cosine from 0.01 towards 0 over 3 epochs
    assert lrs == pytest.approx([0.01 * (1 + np.cos(np.pi * e / 3)) / 2 for e in range(3)])
    best = max(run.history, key=lambda h: h["val_auroc"])
    assert run.result.best_epoch == best["epoch"]


def test_monitor_loss_keeps_the_lowest_validation_loss():
    run = train(RunConfig(strategy="ttl", cut=2, monitor="loss", lr=1e-2, **{**TINY, "max_epochs": 3}))
    best = min(run.history, key=lambda h: h["val_loss"])
    assert run.result.best_epoch == best["epoch"] and run.result.val["loss"] == best["val_loss"]


@pytest.mark.parametrize("option, value, message", [
    ("--max-epochs", "0", "--max-epochs must be a whole number of at least 1"),
    ("--max-epochs", "-1", "--max-epochs must be a whole number of at least 1"),
    ("--image-size", "0", "--image-size must be a whole number of at least 1"),
    ("--image-size", "8", "smaller than the total stride of resnet18 at cut 8 (32)"),
    ("--hidden", "-3", "--hidden must be 0"),
    ("--device", "gpu", "--device 'gpu': choose cpu or cuda"),
    ("--lr", "nan", "--lr must be a finite number above 0"),
    ("--lr", "-1", "--lr must be a finite number above 0"),
    ("--lr", "inf", "--lr must be a finite number above 0"),
    ("--limit", "-5", "--limit must be at least 1"),
    ("--precision", "16-mixed", "16-mixed needs a GPU"),
    ("--recipe", "fast", "unknown --recipe 'fast'"),
    ("--monitor", "dice", "--monitor 'dice' is not a score of the classification task"),
    ("--logger", "wandb", "--logger 'wandb': unknown wandb"),
    ("--devices", "3", "--batch-size 64 must be divisible by --devices 3"),
])
def test_bad_options_are_refused_before_any_work(run_cli, tmp_path, option, value, message):
    code, _, err = run_cli("train", *ARGS, "--strategy", "ftl", "--out", tmp_path / "run", option, value)
    assert code == 2 and message in err, err
    assert "Traceback" not in err and not (tmp_path / "run").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal where no GPU is present")
def test_cuda_without_a_gpu_is_refused(run_cli, tmp_path):
    code, _, err = run_cli("train", *ARGS, "--strategy", "ftl", "--out", tmp_path / "run", "--device", "cuda")
    assert code == 2 and "no CUDA GPU is available here" in err


def test_out_under_a_file_is_refused_before_training(run_cli, tmp_path):
    (tmp_path / "file").write_text("x")
    code, _, err = run_cli("train", *ARGS, "--strategy", "ftl", "--out", tmp_path / "file" / "run")
    assert code == 2 and "is a file, so the directory cannot be created" in err


def test_exploding_loss_is_reported_as_diverged(run_cli, tmp_path):
    code, _, err = run_cli("train", *ARGS, "--strategy", "ttl", "--cut", "2", "--lr", "1e5", "--max-epochs", "3",
                           "--out", tmp_path / "run")
    assert code == 2 and ("diverged" in err or "loss became" in err), err
    assert not (tmp_path / "run" / "model.safetensors").exists()


def test_volumes_on_a_2d_backbone_are_refused_naming_both(run_cli, tmp_path):
    volumes = np.zeros((8, 16, 16, 16), np.uint8)
    labels = (np.arange(8) % 2).reshape(-1, 1)
    np.savez(tmp_path / "v.npz", **{f"{s}_{k}": v for s in ("train", "val", "test")
                                    for k, v in (("images", volumes), ("labels", labels))})
    code, _, err = run_cli("train", "--data", tmp_path / "v.npz", "--backbone", "resnet18", "--strategy", "ttl",
                           "--cut", "2", "--weights", "none", "--image-size", "16", "--out", tmp_path / "run")
    assert code == 2 and "Traceback" not in err
    assert "volumes (3D); resnet18 is a 2D backbone; 3D backbones:" in err, err


def test_profile_of_ftl_reports_the_full_network(run_cli):
    code, out, _ = run_cli("profile", "resnet18", "--strategy", "ftl", "--cut", "3", "--json", "--image-size", "32",
                           "--repeats", "1", "--warmup", "0")
    record = json.loads(out)
    assert code == 0 and record["cut"] == 8 and record["params"] == 11177538


def test_tensorboard_logger_writes_the_epochs_and_the_final_record(run_cli, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    code, _, err = run_cli("train", *ARGS, "--strategy", "ttl", "--cut", "2", "--max-epochs", "2", "--logger",
                           "tensorboard", "--out", tmp_path / "run")
    assert code == 0, err
    events = EventAccumulator(str(tmp_path / "run" / "logs" / "tensorboard")).Reload()
    tags = events.Tags()["scalars"]
    assert {"val_auprc", "train_loss", "lr", "final/test_auroc"} <= set(tags)
    assert [e.step for e in events.Scalars("val_auprc")] == [1, 2]
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert events.Scalars("final/test_auroc")[0].value == pytest.approx(result["test"]["auroc"])


def test_mlflow_logger_writes_a_run(run_cli, tmp_path, monkeypatch):
    pytest.importorskip("mlflow", reason="the optional extra truncatedtl[track] (MLflow) is not installed")
    from mlflow.tracking import MlflowClient

    uri = f"file:{tmp_path / 'mlruns'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    code, _, err = run_cli("train", *ARGS, "--strategy", "ttl", "--cut", "2", "--logger", "mlflow",
                           "--out", tmp_path / "run")
    assert code == 0, err
    client = MlflowClient(tracking_uri=uri)
    run = client.search_runs([client.get_experiment_by_name("truncatedtl").experiment_id])[0]
    assert "val_auprc" in run.data.metrics and run.data.params["strategy"] == "ttl"


def test_ddp_on_two_cpu_processes_matches_one_process(tmp_path, run_cli):
    """gloo DDP, 2 ranks: the global batch is split over the ranks and the gradient averaged, so with the whole
    training split in one batch, no augmentation and BN frozen (linear), both runs take the same steps. The
    one-process run trains in this process; the DDP one is launched as the CLI would be."""
    common = [*ARGS, "--strategy", "linear", "--max-epochs", "2", "--lr", "1e-2", "--batch-size", "32",
              "--no-augment"]
    code, _, err = run_cli("train", *common, "--devices", "1", "--out", tmp_path / "d1")
    assert code == 0, err[-2000:]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "truncatedtl.cli", "train", *common, "--devices", "2",
                           "--out", tmp_path / "d2"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    one, two = (json.loads((tmp_path / f"d{d}" / "result.json").read_text()) for d in (1, 2))
    for split in ("val", "test"):
        for metric in ("auroc", "auprc"):
            assert two[split][metric] == pytest.approx(one[split][metric], abs=1e-3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d1", "d2"]  # written once, by rank 0
