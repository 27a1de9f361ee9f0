"""Contract over every registered backbone: declared cut points agree with what the network really does."""

import itertools

import pytest
import torch

from truncatedtl.analysis.complexity import count_params
from truncatedtl.backbones import available, load_backbone
from truncatedtl.strategies import HeadSpec, build

SIZE = 32


@pytest.mark.parametrize("name", available(spatial_dims=2))
def test_every_cut_point_builds_runs_and_matches_its_declaration(name):
    backbone = load_backbone(name)
    points = backbone.cut_points
    assert [p.index for p in points] == list(range(len(points)))
    assert points[-1].block_end and not points[0].block_end
    x = torch.randn(2, 3, SIZE, SIZE)
    body = backbone.body(backbone.last_cut).eval()
    with torch.no_grad():
        for unit, point in zip(body, points):
            x = unit(x)
            assert x.shape[1] == point.channels, point
            assert SIZE // x.shape[-1] == point.stride, point
    params = []
    for point in points:
        net = build("ttl", backbone, point.index, HeadSpec(2, SIZE)).eval()
        assert len(net.body) == point.index + 1 and net.neck is None
        with torch.no_grad():
            assert net(torch.randn(1, 3, SIZE, SIZE)).shape == (1, 2)
        params.append(count_params(net))
    assert all(a < b for a, b in itertools.pairwise(params)), "params must fall as the cut moves down"


@pytest.mark.parametrize("name", ["resnet50", "densenet121", "efficientnet_b0"])
def test_block_boundaries_follow_the_stages(name):
    backbone = load_backbone(name)
    blocks = [p.block for p in backbone.cut_points]
    for k in backbone.block_ends[:-1]:
        assert blocks[k + 1] == blocks[k] + 1
