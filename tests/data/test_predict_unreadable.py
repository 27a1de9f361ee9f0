"""``ttl predict`` on a folder with an unreadable image: rows for the readable ones, the unreadable listed,
exit code 1 unless ``--skip-unreadable``."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.conftest import write_png


def test_unreadable_image_is_listed_and_the_rest_predicted(minmax_run: Path, tmp_path: Path, run_cli) -> None:
    folder = tmp_path / "images"
    for i in range(3):
        write_png(folder / f"{i}.png", 40 * i)
    (folder / "1.png").write_bytes(b"truncated")
    code, _, err = run_cli("predict", minmax_run, folder, "--out", tmp_path / "p.csv")
    assert code == 1
    assert "1 input(s) could not be read" in err and "cannot read image" in err and "1.png" in err
    rows = list(csv.reader((tmp_path / "p.csv").open()))
    assert [Path(r[0]).name for r in rows[1:]] == ["0.png", "2.png"]
    code, _, err = run_cli("predict", minmax_run, folder, "--out", tmp_path / "q.csv", "--skip-unreadable")
    assert code == 0 and "1.png" in err
