"""A tiny trained run with the ``minmax`` intensity policy, for the data tests that go through ``predict``."""

from __future__ import annotations

from pathlib import Path

import pytest

from truncatedtl.engine import RunConfig, save_run, train


@pytest.fixture(scope="session")
def minmax_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = RunConfig(data="synthetic", backbone="resnet18", strategy="ttl", cut=1, image_size=16, max_epochs=1,
                       limit=16, weights="none", intensity="minmax")
    return save_run(train(config), tmp_path_factory.mktemp("minmax") / "run")
