from dataclasses import replace

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from truncatedtl.analysis.svcca import random_baseline
from truncatedtl.analysis.transferability import Transferability, baseline_seed, block_pairs, transferability
from truncatedtl.backbones import cut_points, load_backbone
from truncatedtl.spec import HeadSpec
from truncatedtl.tasks import build_network, resolve_spec

SIZE, SAMPLES, POSITIONS = 32, 24, 16


@pytest.fixture(scope="module")
def backbone():
    return load_backbone("resnet18", "none")


@pytest.fixture(scope="module")
def loader() -> DataLoader:
    images = torch.randn(SAMPLES, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(1))
    return DataLoader(TensorDataset(images, torch.zeros(SAMPLES)), batch_size=8)


def network(backbone, strategy: str = "ftl", cut: int | None = None):
    return build_network(resolve_spec(backbone, strategy, cut, HeadSpec(2, SIZE)), backbone)


@pytest.fixture(scope="module")
def changed(backbone, loader) -> Transferability:
    """The reference against a copy whose units from cut point 3 up were changed (as finetuning changes
    the top); 16 positions per image keep the data points well above the channels at cut points 2 and 3."""
    finetuned = network(backbone)
    with torch.no_grad():
        for p in finetuned.body[3:].parameters():
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(2)) * p.std())
    return transferability(network(backbone), finetuned, loader, backbone, positions=POSITIONS)


def test_a_network_against_itself_correlates_fully_at_every_cut(backbone, loader):
    result = transferability(network(backbone), network(backbone), loader, backbone, positions=4)
    assert [c.cut for c in result.cuts] == list(range(len(backbone.cut_points)))
    for cut in result.cuts:
        np.testing.assert_allclose(cut.coefficients, 1, atol=1e-6)
        assert cut.cka == pytest.approx(1)


def test_random_baseline_has_the_shapes_of_the_comparison(backbone, changed):
    for point, cut in zip(backbone.cut_points, changed.cuts):
        assert cut.channels == (point.channels, point.channels)
        assert cut.data_points == SAMPLES * min(POSITIONS, (SIZE // point.stride) ** 2)
        shape = (cut.data_points, point.channels)
        expected = random_baseline(shape, shape, baseline_seed(changed.seed, cut.cut), changed.keep)
        np.testing.assert_array_equal(cut.random, expected)


def test_changed_units_lose_correlation_the_untouched_bottom_keeps_it(changed):
    bottom, top = changed.cuts[2], changed.cuts[3]
    np.testing.assert_allclose(bottom.coefficients, 1, atol=1e-6)
    assert bottom.data_points > 2 * bottom.channels[0] and top.data_points > 2 * top.channels[0]
    assert np.mean(top.coefficients) < 0.95 and top.overlap < 0.5


def test_block_to_block_pairs_are_the_papers_b2_b4_and_b3_b4():
    assert block_pairs(cut_points("resnet50")) == [(7, 16), (13, 16)]


def test_block_pairs_before_and_after_finetuning(changed):
    assert [(b.model, b.blocks, b.cuts) for b in changed.blocks] == [
        ("pretrained", (2, 4), (4, 8)), ("pretrained", (3, 4), (6, 8)),
        ("finetuned", (2, 4), (4, 8)), ("finetuned", (3, 4), (6, 8))]
    assert changed.blocks[0].channels == (128, 512)
    assert changed.blocks[0].random == changed.blocks[2].random
    assert [c.cut for c in changed.per_block()] == [2, 4, 6, 8]


def test_a_truncated_network_is_compared_at_the_cut_points_it_has(backbone, loader):
    result = transferability(network(backbone), network(backbone, "ttl", 5), loader, backbone, positions=4)
    assert [c.cut for c in result.cuts] == list(range(6))
    assert {b.model for b in result.blocks} == {"pretrained"}


def test_json_round_trip(changed, tmp_path):
    labelled = replace(changed, reference="resnet18 (none)", finetuned="ftl (run)", data="synthetic (val split)")
    labelled.save(tmp_path / "svcca.json")
    assert Transferability.load(tmp_path / "svcca.json") == labelled


def test_a_file_that_is_not_a_record_is_refused(tmp_path):
    (tmp_path / "other.json").write_text('{"cuts": []}')
    with pytest.raises(ValueError, match="not a transferability record"):
        Transferability.load(tmp_path / "other.json")
