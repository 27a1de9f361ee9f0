"""Commands end to end: pretraining shows its scores before a full disk stops it and does not take a masked
first batch for its reference loss; bad options get one clear line naming them (no traceback); ``cutpoints``
keeps the contract of the other commands; an inflated backbone takes a 2D source checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from tests.test_integrity import TINY, _mount, _unmount  # noqa: F401 (_unmount: autouse, unmounts the test's disks)
from truncatedtl.backbones import BackboneError, load_backbone
from truncatedtl.engine import LoopConfig, fit
from truncatedtl.strategies import TrainingPlan


def test_pretrain_on_a_full_disk_prints_its_scores_first(run_cli, tmp_path):
    disk = _mount(tmp_path / "disk", "size=256k")
    code, out, err = run_cli("pretrain", "--data", "synthetic", "--backbone", "resnet18", "--weights", "none",
                             "--image-size", "32", "--max-epochs", "1", "--limit", "16", "--out", disk / "src")
    assert code == 1 and "Traceback" not in err, err
    assert "val  AUROC" in out and "test AUROC" in out and "written" not in out  # the scores came first
    assert err.startswith("error: disk full while writing ") and "src/source.safetensors" in err, err
    assert list(disk.iterdir()) == []


def test_a_first_batch_with_every_label_masked_is_no_reference_for_divergence():
    torch.manual_seed(0)
    x = torch.randn(8, 4)
    y = torch.tensor([[-1.0, -1.0]] * 4 + [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])  # batch 1: all masked
    val = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    model = nn.Linear(4, 2)
    plan = TrainingPlan([{"params": list(model.parameters()), "lr": 1e-3}])
    result = fit(model, plan, DataLoader(TensorDataset(x, y), batch_size=4),
                 DataLoader(TensorDataset(x[4:], val), batch_size=4), "multilabel", LoopConfig(max_epochs=2))
    assert result.epochs == 2 and result.history[0]["train_loss"] > 0.1  # trained on, not "diverged (1e7x)"


def test_profile_threads_below_one_is_refused(run_cli):
    code, _, err = run_cli("profile", "resnet18", "--image-size", "32", "--repeats", "1", "--threads", "0")
    assert code == 2 and "Traceback" not in err and "--threads must be at least 1, got 0" in err, err


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal on a machine without a GPU")
def test_analyze_on_cuda_without_a_gpu_is_refused(run_cli, tmp_path):
    code, _, err = run_cli("analyze", "--run", tmp_path / "run", "--out", tmp_path / "a", "--device", "cuda")
    assert code == 2 and "Traceback" not in err and "--device cuda: no CUDA device is available here" in err, err


def test_a_negative_split_seed_is_refused_naming_the_option(run_cli, tmp_path):
    code, _, err = run_cli("train", "--data", "synthetic", *TINY, "--strategy", "ttl", "--cut", "2",
                           "--split-seed", "-1", "--out", tmp_path / "r")
    assert code == 2 and "--split-seed must be 0 or more, got -1" in err, err


def test_train_on_uncertain_labels_says_what_to_do_in_train(run_cli, tmp_path):
    from tests.conftest import write_png

    rows = ["path,effusion,edema"] + [f"{write_png(tmp_path / f'{i}.png', 30 * i).name},{i % 2},"
                                      f"{'-1' if i == 3 else 1 - i % 2}" for i in range(6)]
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    code, _, err = run_cli("train", "--data", tmp_path / "m.csv", *TINY, "--strategy", "ttl", "--cut", "2",
                           "--out", tmp_path / "r")
    assert code == 2 and "row 5 column edema: uncertain (-1) label" in err, err
    assert "ttl train, compare and search take no such policy: write 0 or 1 in the cell" in err


def test_an_unreadable_source_json_is_named(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "source.json").write_text("{not json")
    (tmp_path / "src" / "source.safetensors").write_bytes(b"")
    with pytest.raises(BackboneError, match=r"cannot read .*src/source.json: Expecting property name"):
        load_backbone("resnet18", tmp_path / "src")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    from truncatedtl.engine import RunConfig, save_run, train

    config = RunConfig(data="synthetic", backbone="resnet18", strategy="ttl", cut=1, image_size=16, max_epochs=1,
                       limit=16, weights="none")
    return save_run(train(config), tmp_path_factory.mktemp("tiny") / "run")


@pytest.mark.parametrize("command", ["export", "predict"])
def test_a_read_only_out_names_the_real_path(run_cli, tiny_run, tmp_path, command):
    readonly = _mount(tmp_path / "readonly", "size=64k,ro")
    if command == "export":
        args = ["export", tiny_run, "--out", readonly / "m.onnx"]
    else:
        from tests.conftest import write_png

        args = ["predict", tiny_run, write_png(tmp_path / "x.png", 50), "--out", readonly / "p.csv"]
    code, _, err = run_cli(*args)
    name = "m.onnx" if command == "export" else "p.csv"
    assert code == 1 and f"error: cannot write {readonly / name}: Read-only file system" in err, err
    assert ".tmp" not in err


def test_cutpoints_refuses_an_image_size_below_the_stride_as_profile_does(run_cli):
    code, out, err = run_cli("cutpoints", "resnet50", "--image-size", "4")
    assert code == 2 and out == "", err
    assert "--image-size 4 is smaller than the total stride of resnet50 at cut 16 (32): use at least 32" in err


def test_cutpoints_takes_task(run_cli):
    code, out, err = run_cli("cutpoints", "resnet18", "--task", "classification", "--image-size", "32", "--json")
    assert code == 0 and len(json.loads(out)) == 9, err
    code, _, err = run_cli("cutpoints", "resnet18", "--task", "segmentation", "--json")
    assert code == 2 and "--task segmentation does not fit backbone resnet18" in err, err


def test_an_inflated_backbone_takes_a_2d_source_checkpoint_folder(tmp_path):
    from truncatedtl.pretrain import backbone_state, save_source

    net = load_backbone("resnet18")
    state = {f"body.{i}.{k}": v + 0.01 if v.is_floating_point() else v  # not the random init
             for i, unit in enumerate(net.units) for k, v in unit.module.state_dict().items()}
    source = save_source(tmp_path / "src", {"backbone": "resnet18"}, backbone_state("resnet18", state), [{"epoch": 1}])
    from_folder, from_file = (nn.Sequential(*(u.module for u in load_backbone("resnet18@3d", w).units)).state_dict()
                              for w in (source, source / "source.safetensors"))
    assert from_folder.keys() == from_file.keys() and all(torch.equal(from_folder[k], from_file[k]) for k in from_file)
    # the stem's 2D kernel, repeated over depth 3 and divided by it
    assert torch.allclose(from_folder["0.0.1.weight"].sum(2), state["body.0.0.weight"], atol=1e-6)


def test_logger_help_shows_the_track_extra(run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "240")
    code, out, _ = run_cli("train", "--help")
    assert code == 0 and "pip install 'truncatedtl[track]'" in out


def test_3d_sizes_are_written_as_cubes(run_cli, monkeypatch):
    from truncatedtl.backbones import input_side

    assert input_side("resnet18_3d", 32) == "32³" and input_side("efficientnet_lite0@3d", 32) == "32³"
    assert input_side("resnet18", 224) == "224²" and input_side("unet_resnet18", 64) == "64²"
    monkeypatch.setenv("COLUMNS", "240")
    code, out, err = run_cli("cutpoints", "resnet18_3d", "--image-size", "32")
    assert code == 0 and "(2 classes, 32³)" in out and "²" not in out, err
