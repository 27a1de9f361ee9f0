"""Every registered strategy builds and runs for each backbone family, at a block boundary and inside a block."""

import pytest
import torch

from truncatedtl.backbones import load_backbone
from truncatedtl.spec import HeadSpec
from truncatedtl.strategies import available
from truncatedtl.tasks import build_network, resolve_spec

SIZE = 32
FAMILIES = ("resnet18", "densenet121", "efficientnet_lite0")


@pytest.fixture(scope="module", params=FAMILIES)
def backbone(request):
    return load_backbone(request.param)


@pytest.mark.parametrize("where", ["block_end", "inside"])
@pytest.mark.parametrize("strategy", available())
def test_forward(backbone, strategy, where):
    cut = backbone.block_ends[1] + (1 if where == "inside" else 0)
    assert backbone.cut_points[cut].block_end == (where == "block_end")
    net = build_network(resolve_spec(backbone, strategy, cut, HeadSpec(3, SIZE)), backbone).eval()
    with torch.no_grad():
        out = net(torch.randn(2, 3, SIZE, SIZE))
    assert out.shape == (2, 3) and torch.isfinite(out).all()
