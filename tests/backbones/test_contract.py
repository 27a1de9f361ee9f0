"""Contract over every registered backbone: declared cut points agree with what the network really does.

Incremental: the chain of units runs once per backbone and every cut point is checked against the intermediate
output; a truncated network's parameters are the units' up to the cut plus the head's, so TTL networks are built
and run only at the block ends of one representative per family (resnet50 and densenet121 at every cut point)."""

import itertools

import pytest
import torch

from truncatedtl.analysis.complexity import count_params
from truncatedtl.backbones import available, load_backbone
from truncatedtl.spec import HeadSpec
from truncatedtl.tasks import build_network, resolve_spec

SIZE = 32
CLASSES = 2
# A representative per family builds TTL networks; the big variants are checked through their units.
BUILD_EVERY_CUT = ["resnet50", "densenet121"]
BUILD_BLOCK_ENDS = ["resnet18", "efficientnet_b0"]


def _ttl_params(backbone) -> list[int]:
    """Parameters of the TTL network at every cut point: the units' up to k, then a linear head."""
    per_unit = [count_params(u.module) for u in backbone.units]
    assert all(n > 0 for n in per_unit[1:]), "every unit above the stem has weights"
    return [s + p.channels * CLASSES + CLASSES for s, p in zip(itertools.accumulate(per_unit), backbone.cut_points)]


@pytest.mark.parametrize("name", available(spatial_dims=2))
def test_every_cut_point_matches_its_declaration(name):
    backbone = load_backbone(name)
    points = backbone.cut_points
    assert [p.index for p in points] == list(range(len(points))) == list(range(len(backbone.units)))
    assert points[-1].block_end and not points[0].block_end
    x = torch.randn(1, 3, SIZE, SIZE)
    with torch.no_grad():
        for unit, point in zip(backbone.units, points):
            x = unit.module.eval()(x)
            assert x.shape[1] == point.channels, point
            assert SIZE // x.shape[-1] == point.stride, point
    params = _ttl_params(backbone)
    assert all(a < b for a, b in itertools.pairwise(params)), "params must fall as the cut moves down"


@pytest.mark.parametrize("name, count, ends", [("resnet101", 34, [3, 7, 30, 33]), ("resnet152", 51, [3, 11, 47, 50]),
                                               ("densenet169", 86, [7, 20, 53, 85]),
                                               ("densenet201", 102, [7, 20, 69, 101])])
def test_big_variants_declare_one_cut_point_per_unit_of_their_stages(name, count, ends):
    """ResNet: stem + bottlenecks (3, 4|8, 23|36, 3); DenseNet: stem + dense layers and a transition per stage
    (6, 12, 32|48, 32)."""
    backbone = load_backbone(name)
    assert len(backbone.cut_points) == count and backbone.block_ends == ends


@pytest.mark.parametrize("name", BUILD_EVERY_CUT + BUILD_BLOCK_ENDS)
def test_truncated_networks_build_run_and_count_their_units(name):
    backbone = load_backbone(name)
    expected = _ttl_params(backbone)
    cuts = range(len(expected)) if name in BUILD_EVERY_CUT else [0, *backbone.block_ends]
    runs = {0, *backbone.block_ends}
    for k in cuts:
        net = build_network(resolve_spec(backbone, "ttl", k, HeadSpec(CLASSES, SIZE)), backbone).eval()
        assert len(net.body) == k + 1 and net.neck is None
        assert count_params(net) == expected[k], k
        if k in runs:
            with torch.no_grad():
                assert net(torch.randn(1, 3, SIZE, SIZE)).shape == (1, CLASSES)


@pytest.mark.parametrize("name", ["resnet50", "densenet121", "efficientnet_b0"])
def test_block_boundaries_follow_the_stages(name):
    backbone = load_backbone(name)
    blocks = [p.block for p in backbone.cut_points]
    for k in backbone.block_ends[:-1]:
        assert blocks[k + 1] == blocks[k] + 1
