"""A tiny trained run (resnet18 cut 2, 32², one epoch on the synthetic set) shared by the deployment tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from truncatedtl.engine import RunConfig, save_run, train


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = RunConfig(data="synthetic", backbone="resnet18", strategy="ttl", cut=2, image_size=32, max_epochs=1,
                       limit=64, weights="none")
    return save_run(train(config), tmp_path_factory.mktemp("deploy") / "run")


@pytest.fixture
def run_copy(trained_run: Path, tmp_path: Path) -> Path:
    """A private copy of the run, for tests that write into it."""
    return Path(shutil.copytree(trained_run, tmp_path / "run"))
