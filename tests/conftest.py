"""Shared fixtures: the CLI run in-process, tiny image folders."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


@pytest.fixture
def run_cli(capsys, monkeypatch):
    """Run ``ttl ARGS`` in this process; returns (exit code, stdout, stderr)."""
    from truncatedtl.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["ttl", *map(str, args)])
        code = 0
        try:
            main()
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def write_png(path: Path, value: int, size: int = 40, rgb: bool = False) -> Path:
    rng = np.random.default_rng(value)
    pixels = (rng.random((size, size)) * 60 + value).clip(0, 255).astype(np.uint8)
    image = Image.fromarray(pixels)
    path.parent.mkdir(parents=True, exist_ok=True)
    (image.convert("RGB") if rgb else image).save(path)
    return path


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """root/{a,b}/*.png, 20 images per class, the classes differ in brightness."""
    root = tmp_path / "folder"
    for c, base in (("a", 20), ("b", 160)):
        for i in range(20):
            write_png(root / c / f"{i}.png", base + i)
    return root
