import copy

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from truncatedtl.analysis.capture import capture
from truncatedtl.backbones import load_backbone

SIZE, SAMPLES = 32, 12


@pytest.fixture(scope="module")
def backbone():
    return load_backbone("resnet18", "none")


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    return torch.randn(SAMPLES, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(0))


def loader(images: torch.Tensor, batch_size: int = 4) -> DataLoader:
    return DataLoader(TensorDataset(images, torch.zeros(len(images))), batch_size=batch_size)


def positions_at(backbone, k: int) -> int:
    return (SIZE // backbone.cut_points[k].stride) ** 2


@pytest.fixture(scope="module")
def twins(backbone, images):
    """A body against an identical copy of itself."""
    body = backbone.body(backbone.last_cut)
    return capture(body, copy.deepcopy(body), loader(images), positions=4)


def test_one_statistic_per_cut_with_the_cut_points_channels_and_data_points(backbone, twins):
    captured = twins
    assert captured.samples == SAMPLES
    assert len(captured.cuts) == len(backbone.cut_points)
    for point, stats in zip(backbone.cut_points, captured.cuts):
        assert stats.xy.shape == (point.channels, point.channels)
        assert stats.n == SAMPLES * min(4, positions_at(backbone, point.index))


def test_both_networks_see_the_same_positions(twins):
    for stats in twins.cuts:
        torch.testing.assert_close(stats.xy, stats.xx, rtol=0, atol=0)
        torch.testing.assert_close(stats.yy, stats.xx, rtol=0, atol=0)


def test_seeded_and_reproducible(backbone, images):
    body = backbone.body(4)
    runs = [capture(body, body, loader(images), positions=5, seed=s) for s in (7, 7, 8)]
    torch.testing.assert_close(runs[0].cuts[0].xx, runs[1].cuts[0].xx, rtol=0, atol=0)
    assert not torch.allclose(runs[0].cuts[0].xx, runs[2].cuts[0].xx)


def test_streaming_does_not_depend_on_the_batches_when_every_position_is_kept(backbone, images):
    a, b = backbone.body(3), backbone.body(3)
    with torch.no_grad():
        b[3].conv1.weight.mul_(-1.5)
    whole, batched = (capture(a, b, loader(images, size), positions=10_000).cuts[3] for size in (SAMPLES, 3))
    assert whole.n == batched.n == SAMPLES * positions_at(backbone, 3)
    np.testing.assert_allclose(whole.coefficients(), batched.coefficients(), atol=1e-9)


def test_block_pairs_pool_the_finer_map_to_the_coarser(backbone, images):
    body = backbone.body(backbone.last_cut)
    captured = capture(body, backbone.body(5), loader(images), positions=4, within=[(2, 8), (4, 6)])
    assert len(captured.cuts) == 6  # the cut points both networks have
    reference = captured.within["reference"]
    assert reference[(2, 8)].xy.shape == (64, 512)
    assert reference[(2, 8)].n == SAMPLES * positions_at(backbone, 8)
    assert reference[(4, 6)].n == SAMPLES * min(4, positions_at(backbone, 6))
    assert list(captured.within["other"]) == []  # the truncated network has no cut point 6 or 8


def test_bad_arguments_are_named(backbone, images):
    body = backbone.body(2)
    with pytest.raises(ValueError, match="positions"):
        capture(body, body, loader(images), positions=0)
    with pytest.raises(ValueError, match="block pair"):
        capture(body, body, loader(images), within=[(1, 5)])
