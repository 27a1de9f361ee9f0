"""Input integrity end to end: a search or comparison resumed on changed data is refused (``--force`` starts over),
a full disk loses no score and leaves nothing half-written, and the refusals of options and labels named in the
issue each say what is wrong."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import write_png
from truncatedtl.data import fingerprint, load_data
from truncatedtl.files import WriteError, write_checkpoint, write_json
from truncatedtl.search.store import TrialStore, check_identity

TINY = ["--backbone", "resnet18", "--image-size", "32", "--max-epochs", "1", "--limit", "32", "--weights", "none",
        "--device", "cpu"]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """root/{a,b}/*.png, 15 images per class (a dark, b bright)."""
    root = tmp_path / "folder"
    for c, base in (("a", 20), ("b", 160)):
        for i in range(15):
            write_png(root / c / f"{c}{i}.png", base + i, size=32)
    return root


def move(root: Path, names: list[str], to: str) -> None:
    for name in names:
        (root / name).rename(root / to / Path(name).name)


def test_search_resumed_on_moved_images_is_refused_and_force_starts_over(run_cli, folder, tmp_path):
    args = ["search", "--data", folder, *TINY, "--method", "logme", "--repeats", "1", "--out", tmp_path / "s"]
    code, first, err = run_cli(*args)
    assert code == 0, err
    saved = json.loads((tmp_path / "s" / "store.json").read_text())
    assert saved["data"] == fingerprint(load_data(folder))
    trials = sorted(p.name for p in (tmp_path / "s" / "trials").iterdir())

    move(folder, ["a/a0.png", "a/a1.png", "a/a2.png"], "b")
    code, _, err = run_cli(*args)
    assert code == 2 and "Traceback" not in err, err
    assert "holds trials trained on other data than" in err and "use another --out, or --force to start over" in err
    assert "split 'train' had" in err or "split 'train' has other files" in err, err
    assert sorted(p.name for p in (tmp_path / "s" / "trials").iterdir()) == trials  # nothing touched

    code, again, err = run_cli(*args, "--force")
    assert code == 0, err
    assert json.loads((tmp_path / "s" / "store.json").read_text())["data"] == fingerprint(load_data(folder))
    assert "training 2 trial(s)" in first and "training 2 trial(s)" in again  # started over: trained again


def test_comparison_resumed_on_a_replaced_file_is_refused_naming_the_split(run_cli, folder, tmp_path):
    args = ["compare", "--data", folder, *TINY, "--strategies", "ttl", "--cut", "2", "--repeats", "1",
            "--out", tmp_path / "c"]
    code, _, err = run_cli(*args)
    assert code == 0, err
    data = load_data(folder)
    replaced = data.test.items[0]
    write_png(replaced, 90, size=32)  # same name, same class, other pixels
    code, _, err = run_cli(*args)
    assert code == 2 and "split 'test' has other files, contents or labels" in err, err
    assert "split 'train'" not in err and "split 'val'" not in err


def test_store_records_the_fingerprint_and_compares_it(folder, tmp_path):
    before = fingerprint(load_data(folder))
    TrialStore(tmp_path / "s", {"k": 1}, data=before)
    assert not check_identity(tmp_path / "s", {"k": 1}, data=before)
    move(folder, ["b/b3.png", "b/b4.png"], "a")
    after = fingerprint(load_data(folder))
    with pytest.raises(FileExistsError, match=r"other data than .*folder holds now \(split "):
        check_identity(tmp_path / "s", {"k": 1}, data=after)
    assert check_identity(tmp_path / "s", {"k": 1}, force=True, data=after)
    # a store made before fingerprints were kept resumes, and records the one it is given
    write_json(tmp_path / "s" / "store.json", {**json.loads((tmp_path / "s" / "store.json").read_text()), "data": None})
    assert not TrialStore(tmp_path / "s", {"k": 1}, data=after).started_over
    assert json.loads((tmp_path / "s" / "store.json").read_text())["data"] == after


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 256 KiB tmpfs mounted at tmp_path/disk (skipped where mounting is not allowed)."""
    return _mount(tmp_path / "disk", "size=256k")


def _mount(where: Path, options: str):
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'mount failed'}); needs root")
    return where


@pytest.fixture(autouse=True)
def _unmount(tmp_path: Path):
    yield
    for name in ("disk", "readonly"):
        if (tmp_path / name).is_mount():
            subprocess.run(["umount", str(tmp_path / name)], check=False)


def test_train_on_a_full_disk_prints_scores_and_leaves_nothing(run_cli, small_disk):
    code, out, err = run_cli("train", "--data", "synthetic", *TINY, "--strategy", "ttl", "--cut", "2",
                             "--out", small_disk / "run")
    assert code == 1 and "Traceback" not in err, err
    assert "val  AUROC" in out and "test AUROC" in out  # the scores came first
    line = err.strip()
    assert line.count("\n") == 0 and line.startswith("error: disk full while writing "), err
    assert re.search(r"run/model.safetensors: 0.6 MiB needed, [\d.]+ [KM]iB free in ", line), line
    assert list(small_disk.iterdir()) == []  # no run directory, no staging folder, no .tmp file


def test_trial_checkpoint_on_a_full_disk_leaves_no_temporary_file(run_cli, small_disk):
    code, _, err = run_cli("compare", "--data", "synthetic", *TINY, "--strategies", "ttl", "--cut", "2",
                           "--repeats", "1", "--out", small_disk / "c")
    assert code == 1 and "Traceback" not in err, err
    assert "ttl-k002-s0: val AUPRC" in err  # the trial's score, shown before its checkpoint was written
    assert "error: disk full while writing" in err and "ttl-k002-s0.safetensors" in err
    assert not any(".tmp" in p.name for p in small_disk.rglob("*"))
    assert list((small_disk / "c" / "trials").iterdir()) == []


def test_write_failure_names_the_path_and_removes_the_temporary_file(small_disk):
    with pytest.raises(WriteError, match=r"disk full while writing .*big.json: 1.0 MiB needed, [\d.]+ [KM]iB free in"):
        write_json(small_disk / "big.json", "x" * 2**20)
    assert list(small_disk.iterdir()) == []


def test_out_on_a_read_only_location_is_refused_before_training(run_cli, tmp_path):
    readonly = _mount(tmp_path / "readonly", "size=64k,ro")
    code, _, err = run_cli("train", "--data", "synthetic", *TINY, "--strategy", "ttl", "--cut", "2",
                           "--out", readonly / "run")
    assert code != 0 and "is not writable; choose another --out" in err, err


def test_checkpoint_with_non_finite_tensors_is_never_written(tmp_path):
    state = {"head.weight": torch.tensor([1.0, float("nan")]), "body.weight": torch.ones(2)}
    with pytest.raises(ValueError, match=r"tensor\(s\) head.weight hold non-finite values"):
        write_checkpoint(tmp_path / "m.safetensors", state)
    assert list(tmp_path.iterdir()) == []


def _npz(path: Path, val_labels: np.ndarray, others: np.ndarray | None = None) -> Path:
    """12 blank images per split; ``others``: the train and test labels (default one class index each)."""
    images = np.zeros((12, 28, 28), np.uint8)
    others = others if others is not None else (np.arange(12) % 2).reshape(-1, 1)
    labels = {"train": others, "val": val_labels, "test": others}
    np.savez(path, **{f"{s}_{k}": v for s in labels for k, v in (("images", images), ("labels", labels[s]))})
    return path


def test_train_and_val_label_shapes_that_disagree_are_refused(run_cli, tmp_path):
    data = _npz(tmp_path / "x.npz", np.stack([np.arange(12) % 2] * 3, 1))
    code, _, err = run_cli("train", "--data", data, *TINY, "--strategy", "ttl", "--cut", "2", "--out", tmp_path / "r")
    assert code == 2 and "val_labels has 3 label(s) per sample but train_labels 1" in err, err
    assert not (tmp_path / "r").exists()


def test_multi_label_values_other_than_0_1_are_refused(tmp_path):
    ml = np.stack([np.arange(12) % 2, 1 - np.arange(12) % 2], 1)
    bad = ml.copy()
    bad[4, 1] = -1
    with pytest.raises(Exception, match=r"val_labels\[4, 1\] = -1; multi-label columns hold 0 or 1 only"):
        load_data(_npz(tmp_path / "m.npz", bad, ml))
    for i in range(6):
        write_png(tmp_path / f"{i}.png", 40 * i)
    rows = ["path,effusion,edema"] + [f"{i}.png,{i % 2},{'-1' if i == 3 else 1 - i % 2}" for i in range(6)]
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(Exception, match=r"row 5 column edema: uncertain \(-1\) label; choose an uncertain-label"):
        load_data(tmp_path / "m.csv")
    rows[2] = "1.png,1,2"
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(Exception, match=r"row 3 column edema: multi-label cells hold 1, 0, -1 \(uncertain\) or blank"):
        load_data(tmp_path / "m.csv", uncertain="zeros")


@pytest.mark.parametrize("command", [["cutpoints", "resnet18", "--json"],
                                     ["profile", "resnet18", "--image-size", "32", "--repeats", "1"]])
@pytest.mark.parametrize("classes", ["0", "-2"])
def test_num_classes_below_one_is_refused(run_cli, command, classes):
    code, out, err = run_cli(*command, "--num-classes", classes)
    assert code == 2 and f"--num-classes must be at least 1, got {classes}" in err and out == "", err



def test_profile_image_size_below_the_stride_is_refused(run_cli):
    code, _, err = run_cli("profile", "resnet18", "--image-size", "0", "--repeats", "1")
    assert code == 2 and "--image-size 0 is smaller than the total stride of resnet18 at cut 8 (32)" in err, err
