"""``ttl profile``: the cost record, MACs identical to ``ttl cutpoints``, runs profiled as trained, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from truncatedtl.analysis.complexity import profile
from truncatedtl.cli.cutpoints import cutpoint_rows
from truncatedtl.engine import RunConfig, save_run, train

KEYS = {"params", "macs", "latency_ms_median", "latency_ms_p90", "device", "batch_size", "threads"}
QUICK = ("--warmup", "0", "--repeats", "2")


def profile_json(run_cli, *args: str) -> dict:
    code, out, err = run_cli("profile", *args, *QUICK, "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(scope="module")
def cutpoints_resnet18() -> list[dict]:
    return cutpoint_rows("resnet18", 3, 32)


@pytest.mark.parametrize("cut", [0, 2, 5])
def test_macs_and_params_equal_cutpoints(run_cli, cutpoints_resnet18: list[dict], cut: int) -> None:
    record = profile_json(run_cli, "resnet18", "--strategy", "ttl", "--cut", str(cut), "--image-size", "32",
                          "--num-classes", "3")
    row = cutpoints_resnet18[cut]
    assert KEYS <= set(record)
    assert (record["macs"], record["params"]) == (row["macs"], row["params"])


def test_record(run_cli) -> None:
    record = profile_json(run_cli, "efficientnet_lite0", "--cut", "3", "--image-size", "32", "--batch-size", "2",
                          "--threads", "1")
    assert (record["strategy"], record["cut"], record["image_size"], record["num_classes"]) == ("ttl", 3, 32, 2)
    assert (record["device"], record["batch_size"], record["threads"], record["repeats"]) == ("cpu", 2, 1, 2)
    assert 0 < record["latency_ms_median"] <= record["latency_ms_p90"]


def test_full_model_without_a_cut(run_cli) -> None:
    record = profile_json(run_cli, "resnet18", "--image-size", "32")
    assert (record["strategy"], record["cut"]) == ("ftl", 8)


def test_run_directory(tmp_path: Path, run_cli) -> None:
    config = RunConfig(data="synthetic", backbone="resnet18", strategy="ttl", cut=2, image_size=32, max_epochs=1,
                       limit=64, weights="none")
    run_dir = save_run(train(config), tmp_path / "run")
    result = json.loads((run_dir / "result.json").read_text())
    record = profile_json(run_cli, str(run_dir))
    assert (record["model"], record["strategy"], record["cut"], record["image_size"]) == ("resnet18", "ttl", 2, 32)
    assert (record["params"], record["macs"]) == (result["params"], result["macs"])
    code, _, err = run_cli("profile", str(run_dir), "--cut", "3")
    assert code == 2 and "the run" in err


def test_versus_ftl_times_both_models_side_by_side(run_cli) -> None:
    record = profile_json(run_cli, "resnet18", "--cut", "2", "--versus", "ftl", "--image-size", "32",
                          "--threads", "1")
    other = record["versus"]
    assert (other["strategy"], other["cut"], other["image_size"]) == ("ftl", 8, 32)
    assert other["latency_ms_median"] > 0 and other["params"] > record["params"]
    low, high = record["ratio_spread"]
    assert 0 < low <= record["ratio"] <= high and record["rounds"] == 2


def test_versus_a_run_directory_and_the_text_output(tmp_path: Path, run_cli) -> None:
    config = RunConfig(data="synthetic", backbone="resnet18", strategy="ttl", cut=1, image_size=32, max_epochs=1,
                       limit=32, weights="none")
    run_dir = save_run(train(config), tmp_path / "run")
    record = profile_json(run_cli, "resnet18", "--cut", "3", "--image-size", "32", "--versus", str(run_dir))
    assert (record["versus"]["strategy"], record["versus"]["cut"]) == ("ttl", 1)
    code, out, err = run_cli("profile", str(run_dir), "--versus", "ftl", *QUICK)
    assert code == 0, err
    assert "versus   resnet18 ftl cut 8" in out and "timed side by side" in out and "note:" not in err
    code, out, err = run_cli("profile", str(run_dir), *QUICK)
    assert code == 0 and "absolute latencies vary from one process to the next" in err


def test_api_record_keys() -> None:
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    record = profile(model, (3, 8, 8), batch_size=2, warmup=0, repeats=3).as_dict()
    assert KEYS <= set(record) and record["params"] == 3 * 4 * 9 + 4 and record["repeats"] == 3


@pytest.mark.parametrize(("args", "message"), [
    (["resnet18", "--cut", "99"], "valid cut points are 0..8"),
    (["resnet5"], "unknown backbone"),
    (["runs/missing"], "run directory runs/missing does not exist"),
    (["resnet18", "--device", "tpu"], "--device tpu"),
    (["resnet18", "--cuda-graph"], "--cuda-graph captures the model in a CUDA graph, which needs a GPU"),
    (["resnet18", "--versus", "nope"], "--versus nope"),
    (["resnet18", "--versus", "runs/missing"], "run directory runs/missing does not exist"),
])
def test_bad_input_is_a_clear_error(run_cli, args: list[str], message: str) -> None:
    code, _, err = run_cli("profile", *args, *QUICK)
    assert code == 2 and message in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_cuda_without_a_device(run_cli) -> None:
    code, _, err = run_cli("profile", "resnet18", "--device", "cuda", *QUICK)
    assert code == 2 and "no CUDA device" in err
