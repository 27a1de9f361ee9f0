"""TransFusion: the kept part is the pretrained network (weights and BN statistics), everything above the cut
is rebuilt at half width for each backbone family, and the paper's ResNet-50 cost is reproduced."""

import dataclasses

import pytest
import torch
from torch import nn

from truncatedtl.analysis.complexity import count_macs, count_params
from truncatedtl.backbones import BackboneError, Family, load_backbone
from truncatedtl.spec import HeadSpec
from truncatedtl.tasks import build_network, resolve_spec

SIZE = 32


def _forward(net: nn.Module) -> torch.Tensor:
    with torch.no_grad():
        return net.eval()(torch.randn(2, 3, SIZE, SIZE))


def test_resnet50_block4_at_half_width_costs_what_the_paper_says():
    resnet50 = load_backbone("resnet50")
    net = build_network(resolve_spec(resnet50, "tf", 13, HeadSpec(2, 224)), resnet50)
    assert count_params(net) / 1e6 == pytest.approx(12.9, abs=0.1)
    assert count_macs(net, (3, 224, 224)) / 1e9 == pytest.approx(3.56, rel=0.02)


def test_kept_part_holds_the_pretrained_tensors_including_bn_statistics():
    backbone = load_backbone("efficientnet_lite0", "pretrained")
    cut = 8
    net = build_network(resolve_spec(backbone, "tf", cut, HeadSpec(2, SIZE)), backbone)
    kept = nn.Sequential(*(u.module for u in backbone.units[: cut + 1])).state_dict()
    mine = {k.removeprefix("body."): v for k, v in net.state_dict().items()
            if k.startswith("body.") and int(k.split(".")[1]) <= cut}
    assert mine.keys() == kept.keys()
    assert any(k.endswith("running_var") for k in kept)
    assert all(torch.equal(mine[k], kept[k]) for k in kept)
    assert torch.all(net.body[cut + 1].bn1.running_var == 1), "top BN statistics are fresh, not pretrained"


def test_resnet_cut_inside_a_block_keeps_skip_shapes_consistent():
    backbone = load_backbone("resnet18")
    net = build_network(resolve_spec(backbone, "tf", 3, HeadSpec(2, SIZE)), backbone)
    first, second = net.body[4], net.body[5]
    assert (first.conv1.in_channels, first.conv2.out_channels) == (128, 64)
    assert first.downsample[0].in_channels == 128 and first.downsample[0].out_channels == 64
    assert second.conv1.in_channels == 64 and second.conv2.out_channels == 128
    assert net.head.classifier[-1].in_features == 256
    assert _forward(net).shape == (2, 2)


def test_densenet_halves_the_growth_rate_and_transitions_follow():
    backbone = load_backbone("densenet121")
    for cut in (backbone.block_ends[1], backbone.block_ends[1] + 3):
        net = build_network(resolve_spec(backbone, "tf", cut, HeadSpec(2, SIZE)), backbone)
        channels = backbone.cut_points[cut].channels
        for unit in list(net.body)[cut + 1:]:
            if hasattr(unit, "layer"):
                assert unit.layer.conv2.out_channels == 16 and unit.layer.conv1.out_channels == 64
                channels += 16
            else:
                assert unit.conv.out_channels == channels // 2
                channels //= 2
        assert net.neck.num_features == channels == net.head.classifier[-1].in_features
        assert _forward(net).shape == (2, 2)


def test_efficientnet_halves_expanded_and_output_channels_and_conv_head_input_follows():
    backbone = load_backbone("efficientnet_lite0")
    cut = 4
    net = build_network(resolve_spec(backbone, "tf", cut, HeadSpec(2, SIZE)), backbone)
    for unit, original in zip(list(net.body)[cut + 1:], (u.module for u in backbone.units[cut + 1:])):
        assert unit.conv_pw.out_channels == original.conv_pw.out_channels // 2
        assert unit.conv_pwl.out_channels == original.conv_pwl.out_channels // 2
    assert net.neck[0].in_channels == 160 and net.neck[0].out_channels == 1280
    assert _forward(net).shape == (2, 2)


def test_same_seed_same_architecture_so_a_checkpoint_reloads():
    backbone = load_backbone("efficientnet_b0")
    torch.manual_seed(0)
    a = build_network(resolve_spec(backbone, "tf", 6, HeadSpec(2, SIZE)), backbone)
    torch.manual_seed(0)
    b = build_network(resolve_spec(backbone, "tf", 6, HeadSpec(2, SIZE)), backbone)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_a_family_without_half_width_layers_says_so():
    backbone = dataclasses.replace(load_backbone("resnet18"), family=Family())
    with pytest.raises(BackboneError, match="TransFusion .* is not supported for resnet18"):
        build_network(resolve_spec(backbone, "tf", 4, HeadSpec(2, SIZE)), backbone)
