"""The data fingerprint changes when a file moves between classes or splits, is edited, or a label changes;
it is equal for the same data read twice."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import write_png
from truncatedtl.data import fingerprint, load_data


def test_fingerprint_sees_moves_edits_and_nothing_else(tmp_path: Path) -> None:
    for i in range(20):
        write_png(tmp_path / "train" / "ab"[i % 2] / f"{i}.png", 10 * i)
        write_png(tmp_path / "test" / "ab"[i % 2] / f"t{i}.png", 10 * i)
    before = fingerprint(load_data(tmp_path))
    assert before == fingerprint(load_data(tmp_path))
    assert before["method"] == "content" and before["splits"]["train"]["count"] == 16
    shutil.move(tmp_path / "train" / "a" / "0.png", tmp_path / "train" / "b" / "0.png")  # mislabelled
    moved = fingerprint(load_data(tmp_path))
    assert moved["splits"]["test"] == before["splits"]["test"]
    assert moved["splits"]["train"] != before["splits"]["train"] or moved["splits"]["val"] != before["splits"]["val"]
    write_png(tmp_path / "test" / "a" / "t0.png", 200)  # edited in place
    assert fingerprint(load_data(tmp_path))["splits"]["test"] != moved["splits"]["test"]


def test_fingerprint_of_arrays_follows_the_split_seed() -> None:
    a, b = fingerprint(load_data("synthetic", seed=0)), fingerprint(load_data("synthetic", seed=1))
    assert a["method"] == "content" and a["splits"]["train"]["digest"] != b["splits"]["train"]["digest"]
    assert a == fingerprint(load_data("synthetic", seed=0))
