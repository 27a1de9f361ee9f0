"""A search killed mid-trial resumes with the same command: no finished trial is trained again, and the
report equals that of a run never interrupted."""

import signal
import subprocess
import sys
import time
from pathlib import Path

from truncatedtl.search import search

from .tiny import TINY_ARGS, report_of, settings, tiny_base

TTL = str(Path(sys.executable).with_name("ttl"))


def command(out: Path) -> list[str]:
    return [TTL, "search", *TINY_ARGS, "--method", "two-stage", "--radius", "0", "--out", str(out)]


def test_killed_search_resumes_and_matches_an_uninterrupted_one(tmp_path):
    out = tmp_path / "killed"
    with open(tmp_path / "first.log", "w") as log:
        first = subprocess.Popen(command(out), stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while not list((out / "trials").glob("*.json")) and time.monotonic() < deadline:
            assert first.poll() is None, (tmp_path / "first.log").read_text()
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait()
    finished = {p.name: p.stat().st_mtime_ns for p in (out / "trials").glob("*.json")}
    assert finished and not (out / "report.json").exists()

    again = subprocess.run(command(out), capture_output=True, text=True, timeout=300, check=False)
    assert again.returncode == 0, again.stderr
    assert {p.name: p.stat().st_mtime_ns for p in (out / "trials").glob("*.json") if p.name in finished} == finished
    trained = " ".join(line for line in again.stdout.splitlines() if line.startswith("training "))
    assert not any(Path(name).stem in trained for name in finished)

    search(tiny_base(), settings("two-stage", radius=0), tmp_path / "uninterrupted")
    assert report_of(out) == report_of(tmp_path / "uninterrupted")
