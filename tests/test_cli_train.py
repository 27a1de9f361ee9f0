"""``ttl train`` and ``ttl cutpoints`` end to end, and every bad input of issue 2: exit code ≠ 0, one clear
message naming the thing, nothing written to --out."""

import json

import pytest
from safetensors.torch import save_file

from tests.conftest import write_png
from truncatedtl.evidence import Predictions, still_improving

TINY = ["--data", "synthetic", "--backbone", "resnet18", "--image-size", "32", "--max-epochs", "1",
        "--limit", "32", "--weights", "none"]


def test_train_writes_the_run_directory(run_cli, tmp_path):
    code, out, err = run_cli("train", *TINY, "--strategy", "ttl", "--cut", "2", "--out", tmp_path / "run")
    assert code == 0, err
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    for key in ("strategy", "backbone", "cut", "params", "macs", "epochs", "seconds"):
        assert key in result
    assert set(result["val"]) == set(result["test"]) == {"auroc", "auprc", "loss"}
    assert isinstance(result["params"], int) and isinstance(result["macs"], int)
    assert "test AUROC" in out
    for split in ("val", "test"):  # each score's 95 % interval, and the per-sample predictions behind it
        assert set(result[f"{split}_ci"]) == {"auroc", "auprc"}
        low, high = result[f"{split}_ci"]["auroc"]
        assert 0 <= low <= result[split]["auroc"] + 1e-6 and result[split]["auroc"] - 1e-6 <= high <= 1
        kept = Predictions.load(tmp_path / "run" / f"predictions_{split}.npz")
        assert len(kept) == 32 and kept.scores.shape == (32, 2)
        assert abs(kept.score("auroc")[0] - result[split]["auroc"]) < 1e-5
    assert result["flags"] == {"still_improving": still_improving(1, 1)}  # one epoch: its best is its last
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["cut"] == 2 and config["strategy"] == "ttl"


def test_config_file_supplies_options(run_cli, tmp_path):
    (tmp_path / "c.yaml").write_text("strategy: ttl\ncut: 1\nimage_size: 32\n")
    code, _, err = run_cli("train", "--data", "synthetic", "--backbone", "resnet18", "--max-epochs", "1",
                           "--limit", "32", "--weights", "none", "--config", tmp_path / "c.yaml",
                           "--out", tmp_path / "run")
    assert code == 0, err
    assert json.loads((tmp_path / "run" / "result.json").read_text())["cut"] == 1


def test_cutpoints_json(run_cli):
    code, out, _ = run_cli("cutpoints", "resnet18", "--image-size", "64", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 9
    assert set(rows[0]) == {"index", "name", "block", "block_end", "channels", "stride", "params", "macs"}
    assert [r["index"] for r in rows if r["block_end"]] == [2, 4, 6, 8]


def one_class_test_split(tmp_path):
    for split, classes in (("train", ("a", "b")), ("test", ("a",))):
        for c in classes:
            for i in range(6):
                write_png(tmp_path / "d" / split / c / f"{i}.png", 30 * i)
    (tmp_path / "d" / "test" / "b").mkdir()
    return tmp_path / "d"


def mismatched_weights(tmp_path):
    import timm

    save_file(timm.create_model("resnet34").state_dict(), str(tmp_path / "r34.safetensors"))
    return tmp_path / "r34.safetensors"


@pytest.mark.parametrize("case, args, message", [
    ("unknown backbone", ["--backbone", "resnet5"], "unknown backbone 'resnet5'. Did you mean resnet50"),
    ("cut out of range", ["--strategy", "ttl", "--cut", "9"], "valid cut points are 0..8"),
    ("missing data", ["--data", "/nonexistent/data"], "data /nonexistent/data does not exist"),
    ("one class", ["--data", one_class_test_split], "one class only"),
    ("bad weights", ["--weights", mismatched_weights], "do not fit the architecture"),
    ("missing weights", ["--weights", "/nonexistent/w.pth"], "weights file /nonexistent/w.pth does not exist"),
    ("unknown strategy", ["--strategy", "best"], "unknown strategy 'best'"),
])
def test_bad_input_fails_clearly_and_writes_nothing(run_cli, tmp_path, case, args, message):
    values = dict(zip(TINY[::2], TINY[1::2]))
    values.update({"--strategy": "ttl", "--cut": "2"})
    for flag, value in zip(args[::2], args[1::2]):
        values[flag] = value(tmp_path) if callable(value) else value
    argv = [x for pair in values.items() for x in pair]
    code, _, err = run_cli("train", *argv, "--out", tmp_path / "out")
    assert code != 0, case
    assert message in err and err.startswith("error:"), err
    assert not (tmp_path / "out").exists()


def test_nonempty_out_is_refused(run_cli, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("x")
    code, _, err = run_cli("train", *TINY, "--strategy", "ttl", "--cut", "2", "--out", tmp_path / "out")
    assert code == 2 and "is not empty" in err
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep.txt"]
