"""SPEC §3: ResNet-50 at 224², 2 classes, avg-pool + linear head — the paper's parameter and MAC counts."""

import pytest

from truncatedtl.analysis.complexity import count_macs, count_params
from truncatedtl.backbones import load_backbone
from truncatedtl.spec import HeadSpec
from truncatedtl.tasks import build_network, resolve_spec


@pytest.fixture(scope="module")
def resnet50():
    return load_backbone("resnet50")


def test_cut_points_and_block_boundaries(resnet50):
    assert len(resnet50.cut_points) == 17
    assert resnet50.block_ends == [3, 7, 13, 16]
    assert resnet50.cut_points[11].name == "layer3.3"


@pytest.mark.parametrize("cut, params_m, macs_g", [(11, 6.31, 2.88), (13, 8.55, 3.32), (16, 23.51, 4.13)])
def test_truncated_params_and_macs(resnet50, cut, params_m, macs_g):
    net = build_network(resolve_spec(resnet50, "ttl", cut, HeadSpec(2, 224)), resnet50)
    assert count_params(net) / 1e6 == pytest.approx(params_m, abs=0.005)
    assert count_macs(net, (3, 224, 224)) / 1e9 == pytest.approx(macs_g, rel=0.01)


def test_truncation_removes_the_top(resnet50):
    net = build_network(resolve_spec(resnet50, "ttl", 11, HeadSpec(2, 224)), resnet50)
    full = build_network(resolve_spec(resnet50, "ftl", None, HeadSpec(2, 224)), resnet50)
    assert len(net.body) == 12 and len(full.body) == 17
    assert not any(k.startswith(("body.12.", "body.16.")) for k in net.state_dict())
    assert count_params(full) - count_params(net) == sum(
        p.numel() for unit in resnet50.units[12:] for p in unit.module.parameters()) + (2048 - 1024) * 2
