"""Timm CNNs without a hand-written family: the derived chain is the model's own forward, or the model is refused."""

from itertools import pairwise

import pytest
import timm
import torch
from safetensors.torch import save_file
from torch import nn

from truncatedtl.analysis.complexity import count_params
from truncatedtl.backbones import Backbone, BackboneError, load_backbone
from truncatedtl.backbones.generic import GenericFamily
from truncatedtl.spec import HeadSpec
from truncatedtl.tasks import build_network, resolve_spec

SIZE = 64

# name -> (last cut point, block boundaries) as derived from timm 1.0's definitions
DERIVED = {
    "convnext_atto": (12, [2, 4, 10, 12]),
    "regnetx_002": (13, [1, 2, 6, 13]),
    "mobilenetv3_small_100": (12, [1, 3, 6, 8, 11, 12]),
    "resnetv2_18": (8, [2, 4, 6, 8]),
    "mobilenetv2_050": (17, [1, 3, 6, 10, 13, 16, 17]),
}


def _derived(name: str) -> tuple[nn.Module, Backbone]:
    torch.manual_seed(0)
    model = timm.create_model(name).eval()
    units, neck = GenericFamily().decompose(model)
    return model, Backbone(name, GenericFamily(), units, neck)


@pytest.mark.parametrize("name", DERIVED)
def test_derived_chain_is_forward_features_and_cuts_at_every_block_boundary(name):
    model, backbone = _derived(name)
    assert (backbone.last_cut, backbone.block_ends) == DERIVED[name]
    x = torch.randn(1, 3, SIZE, SIZE)
    y = x
    with torch.no_grad():
        for unit, point in zip(backbone.units, backbone.cut_points):
            y = unit.module(y)
            assert y.shape[1] == point.channels, point
            assert SIZE // y.shape[-1] == point.stride, point
        if backbone.neck is not None:
            y = backbone.neck(y)
        torch.testing.assert_close(y, model.forward_features(x))
    params = []
    for k in backbone.block_ends:
        net = build_network(resolve_spec(backbone, "ttl", k, HeadSpec(2, SIZE)), backbone).eval()
        with torch.no_grad():
            assert net(torch.randn(1, 3, SIZE, SIZE)).shape == (1, 2)
        params.append(count_params(net))
    assert all(a < b for a, b in pairwise(params)), "params must fall as the cut moves down"


@pytest.mark.parametrize(("name", "why"), [
    ("vit_tiny_patch16_224", r"its forward is not a chain of its blocks \(it uses parameters of its own: cls_token"),
    ("inception_v3", r"cut point 1 \(Conv2d_3b_1x1\+Conv2d_4a_3x3\+Pool2\) gives features of shape .* as its modules declare"),
])
def test_models_that_are_not_a_chain_are_refused_with_the_reason(name, why):
    with pytest.raises(BackboneError, match=rf"cannot cut {name}: {why}.*register a Family for it"):
        load_backbone(name)


def test_unregistered_timm_name_loads_generically_with_its_weights_file(tmp_path, monkeypatch):
    model = timm.create_model("mobilenetv2_050")
    state = {k: torch.full_like(v, 0.5) if v.is_floating_point() else v for k, v in model.state_dict().items()}
    save_file(state, str(tmp_path / "w.safetensors"))
    backbone = load_backbone("mobilenetv2_050", tmp_path / "w.safetensors")
    assert isinstance(backbone.family, GenericFamily)
    assert torch.all(backbone.units[0].module[0].weight == 0.5)
    assert backbone.neck_channels() == 1280
    with pytest.raises(BackboneError, match="TransFusion .* is not supported for mobilenetv2_050"):
        build_network(resolve_spec(backbone, "tf", 3, HeadSpec(2, SIZE)), backbone)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(BackboneError, match=r"--weights path/to/mobilenetv2_050.safetensors"):
        load_backbone("mobilenetv2_050", "pretrained")


def test_a_name_timm_does_not_know_either_gets_suggestions():
    with pytest.raises(BackboneError, match="unknown backbone 'convnext_ato'. Did you mean convnext_atto"):
        load_backbone("convnext_ato")
