"""Per-item data path: every cache kind feeds the same inputs, DataLoader workers fill a shared cache, a disk
cache is reused by a later run, bad data options are refused before any work."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import write_png
from truncatedtl.data import ImageDataset, Preprocessing, build_cache, load_data
from truncatedtl.data.cache import DiskCache, RamCache, memory_bytes, resolve_cache
from truncatedtl.engine import Prepared, RunConfig, prepare

PREP = Preprocessing(16, 2, (0.5, 0.5, 0.5), (0.25, 0.25, 0.25))


@pytest.fixture
def pngs(tmp_path: Path) -> Path:
    for i in range(12):
        write_png(tmp_path / "data" / "ab"[i % 2] / f"{i}.png", 15 * i, size=24 + i, rgb=i == 5)
    return tmp_path / "data"


def inputs(samples, kind: str, folder: Path) -> torch.Tensor:
    dataset = ImageDataset(samples, PREP, train=False, cache=build_cache(kind, samples, PREP, lambda: folder))
    twice = [torch.stack([dataset[i][0] for i in range(len(dataset))]) for _ in range(2)]  # second: from the cache
    assert torch.equal(*twice)
    return twice[0]


def test_every_cache_kind_gives_the_same_inputs(pngs: Path, tmp_path: Path) -> None:
    samples = load_data(pngs).train
    reference = inputs(samples, "none", tmp_path)
    assert reference.shape == (len(samples), 3, 16, 16)
    for kind in ("ram", "disk", "auto"):
        assert torch.equal(inputs(samples, kind, tmp_path / kind), reference)
    assert list((tmp_path / "disk").glob("*.u8"))


def test_cache_kinds_resolve() -> None:
    assert resolve_cache("auto", 1000) == "ram"
    assert resolve_cache("auto", memory_bytes()) == "disk"
    with pytest.raises(ValueError, match="--cache 'tmpfs': choose one of auto, ram, disk, none"):
        resolve_cache("tmpfs", 1)


def test_workers_fill_the_shared_ram_cache(pngs: Path) -> None:
    config = RunConfig(data=str(pngs), backbone="resnet18", strategy="ttl", cut=1, image_size=16, batch_size=4,
                       weights="none", cache="ram", num_workers=2)
    prepared = prepare(config)
    parallel = val_inputs(prepared, config)
    cache = prepared.caches[("val", 16, "dtype", "ram")]
    assert isinstance(cache, RamCache) and bool(cache.filled.all())  # written by the workers, seen here
    assert torch.equal(val_inputs(prepared, replace(config, num_workers=0)), parallel)
    uncached = replace(config, num_workers=0, cache="none")
    assert torch.equal(val_inputs(prepare(uncached), uncached), parallel)


def val_inputs(prepared: Prepared, config: RunConfig) -> torch.Tensor:
    return torch.cat([x for x, _ in prepared.loader("val", config)])


def test_disk_cache_is_reused_by_a_later_run(pngs: Path, tmp_path: Path) -> None:
    config = RunConfig(data=str(pngs), backbone="resnet18", strategy="ttl", cut=1, image_size=16, batch_size=4,
                       weights="none", cache="disk")
    key = ("test", 16, "dtype", "disk")
    first = prepare(config, tmp_path / "cache")
    expected = torch.cat([x for x, _ in first.loader("test", config)])
    later = prepare(config, tmp_path / "cache")
    later.loader("test", config)
    cache = later.caches[key]
    assert isinstance(cache, DiskCache) and cache.path == first.caches[key].path
    missing = [later.data.test.items[i].name for i in range(len(later.data.test)) if cache.get(i) is None]
    assert missing in ([], ["5.png"])  # filled by the first run (but the one RGB image, if the cache is gray)
    assert torch.equal(torch.cat([x for x, _ in later.loader("test", config)]), expected)
    write_png(later.data.test.items[0], 99, size=30)  # changed data: another cache file
    changed = prepare(config, tmp_path / "cache")
    changed.loader("test", config)
    assert changed.caches[key].path != cache.path


@pytest.mark.parametrize(("option", "fragment"), [
    (["--cache", "tmpfs"], "--cache 'tmpfs': choose one of"),
    (["--num-workers", "-1"], "--num-workers must be 0 or more"),
    (["--intensity", "window:40"], "--intensity 'window:40': expected dtype"),
    (["--limit", "-5"], "--limit must be at least 1"),
])
def test_bad_data_options_fail_before_training(run_cli, tmp_path: Path, option: list[str], fragment: str) -> None:
    code, _, err = run_cli("train", "--data", "synthetic", "--backbone", "resnet18", "--strategy", "ttl", "--cut", "1",
                           "--weights", "none", "--out", tmp_path / "run", *option)
    assert code == 2 and fragment in err
    assert not (tmp_path / "run").exists()


def test_channels_beyond_the_cache_are_decoded_each_time(pngs: Path, tmp_path: Path) -> None:
    samples = load_data(pngs, seed=0)
    whole = samples.train
    cache = build_cache("ram", whole, PREP, lambda: tmp_path)
    first_channels = cache.shape[0]
    dataset = ImageDataset(whole, PREP, train=False, cache=cache)
    for i in range(len(dataset)):
        dataset.image(i)
    stored = int(cache.filled.sum())
    rgb = sum(1 for p in whole.items if p.name == "5.png")
    assert stored == len(whole) - (rgb if first_channels == 1 else 0)
    assert np.all(np.isfinite(torch.stack([dataset[i][0] for i in range(len(dataset))]).numpy()))
