"""benchmarks/gpu.sh starts on CPU: its dry run (one epoch, 8 samples per split, the first trial of each lane)
trains through the same commands as the GPU run and packs the records the results page reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"


@pytest.mark.slow
@pytest.mark.skipif(not (DATA / "vesselmnist3d").is_dir() or not (DATA / "chest_xray_pneumonia").is_dir(),
                    reason="needs ../shared/data (vesselmnist3d, chest_xray_pneumonia)")
def test_dry_run_writes_one_record_per_lane(tmp_path: Path) -> None:
    # the script calls python3, as on the GPU machine: here the interpreter running the tests
    env = {**os.environ, "WORK": str(tmp_path / "work"), "OMP_NUM_THREADS": "1",
           "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(["bash", "benchmarks/gpu.sh", "dry-run", str(tmp_path / "out")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=540)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    with tarfile.open(tmp_path / "out" / "gpu_records.tar.gz") as packed:
        names = sorted(Path(n).name for n in packed.getnames() if n.endswith(".json"))
        packed.extractall(tmp_path / "records", filter="data")
    assert names == ["chest-lite0-ttl11.json", "run.json", "vessel-lite0-ftl.json", "vessel-resnet18_3d-ftl.json"]
    run = json.loads((tmp_path / "records" / "run.json").read_text())
    assert run["mode"] == "dry-run" and len(run["trials"]) == 3
    vessel = json.loads((tmp_path / "records" / "vessel-resnet18_3d-ftl.json").read_text())
    assert (vessel["backbone"], vessel["strategy"], vessel["image_size"], vessel["epochs"]) == \
        ("resnet18_3d", "ftl", 32, 1)
    assert vessel["samples"] == {"train": 8, "val": 8, "test": 8}
    chest = json.loads((tmp_path / "records" / "chest-lite0-ttl11.json").read_text())
    assert (chest["backbone"], chest["strategy"], chest["cut"]) == ("efficientnet_lite0", "ttl", 11)
    assert 0.0 <= chest["test"]["auroc"] <= 1.0


def test_unknown_mode_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(["bash", "benchmarks/gpu.sh", "train", str(tmp_path)], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "WORK": str(tmp_path / "w")})
    assert done.returncode == 2 and "unknown mode train" in done.stderr
