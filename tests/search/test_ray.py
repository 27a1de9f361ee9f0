"""The same search as Ray tasks on a local Ray instance and in this process: same trials, same results."""

import json

import pytest

from truncatedtl.search import search

from .tiny import report_of, settings, tiny_base, without_timing

ray = pytest.importorskip("ray")


@pytest.fixture
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def trials(out):
    return {p.stem: without_timing(json.loads(p.read_text())) for p in sorted((out / "trials").glob("*.json"))}


def test_ray_and_local_executors_agree(tmp_path, local_ray):
    search(tiny_base(), settings("two-stage", radius=0, executor="ray"), tmp_path / "ray")
    search(tiny_base(), settings("two-stage", radius=0), tmp_path / "local")
    assert report_of(tmp_path / "ray") == report_of(tmp_path / "local")
    on_ray, local = trials(tmp_path / "ray"), trials(tmp_path / "local")
    assert list(on_ray) == list(local) == ["ftl-k008-s0", "ttl-k002-s0", "ttl-k004-s0", "ttl-k006-s0"]
    assert on_ray == local
