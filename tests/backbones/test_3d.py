"""3D backbones: the cut-point contract on volumes, ResNeXt3D-101's 34 cut points, I3D inflation."""

import itertools

import pytest
import torch

from truncatedtl.analysis.complexity import count_params
from truncatedtl.backbones import BackboneError, available, load_backbone
from truncatedtl.spec import HeadSpec
from truncatedtl.tasks import build_network, resolve_spec

SIZE = 32
# One representative per family runs every cut point; the big variants of a family are checked by declaration.
RUN = ["resnet18_3d", "r3d_18", "r2plus1d_18", "efficientnet_lite0@3d", "densenet121@3d", "resnet18@3d:5"]


def _per_axis(stride, dims: int = 3) -> tuple[int, ...]:
    return stride if isinstance(stride, tuple) else (stride,) * dims


@pytest.mark.parametrize("name", RUN)
def test_every_cut_point_builds_runs_and_matches_its_declaration(name):
    backbone = load_backbone(name)
    assert backbone.spatial_dims == 3 and backbone.in_chans == 3
    points = backbone.cut_points
    assert [p.index for p in points] == list(range(len(points)))
    assert points[-1].block_end and not points[0].block_end
    x = torch.randn(2, 3, SIZE, SIZE, SIZE)
    params, head = [], HeadSpec(2, SIZE)
    with torch.no_grad():
        for unit, point in zip(backbone.body(backbone.last_cut).eval(), points):
            x = unit(x)
            assert x.shape[1] == point.channels, point
            assert tuple(SIZE // s for s in x.shape[2:]) == _per_axis(point.stride), point
            params.append(sum(p.numel() for p in unit.parameters()))
    # Incremental: units' params summed + the head's; one TTL network built and run per family at a middle cut.
    cumulative = list(itertools.accumulate(params))
    assert all(a < b for a, b in itertools.pairwise(cumulative)), "params must rise with k"
    k = backbone.block_ends[1]
    net = build_network(resolve_spec(backbone, "ttl", k, head), backbone).eval()
    assert count_params(net) == cumulative[k] + points[k].channels * 2 + 2
    with torch.no_grad():
        assert net(torch.randn(1, 3, SIZE, SIZE, SIZE)).shape == (1, 2)


@pytest.mark.parametrize("name, count, ends", [("resnet50_3d", 17, [3, 7, 13, 16]),
                                               ("resnext101_3d", 34, [3, 7, 30, 33])])
def test_big_3d_resnets_declare_the_paper_cut_points(name, count, ends):
    backbone = load_backbone(name)
    assert len(backbone.cut_points) == count and backbone.block_ends == ends
    assert backbone.cut_points[-1].channels == 2048 and backbone.cut_points[-1].stride == 32
    if name == "resnext101_3d":
        assert backbone.units[5].module.conv2.groups == 32


def test_every_registered_3d_backbone_is_covered():
    assert set(available(spatial_dims=3)) == {"resnet18_3d", "resnet50_3d", "resnext101_3d", "r3d_18", "r2plus1d_18",
                            "ct_resnet152_3d"}


def test_cutpoints_json_lists_34_cut_points_for_resnext101_3d(run_cli):
    import json

    code, out, _ = run_cli("cutpoints", "resnext101_3d", "--image-size", "32", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 34
    assert [r["index"] for r in rows if r["block_end"]] == [3, 7, 30, 33]
    assert all(a["params"] < b["params"] and a["macs"] < b["macs"] for a, b in itertools.pairwise(rows))


@pytest.mark.parametrize("name", ["resnet18", "efficientnet_lite0", "densenet121"])
def test_a_volume_constant_along_depth_gives_the_2d_logits(name):
    weights = "pretrained" if name == "efficientnet_lite0" else "none"
    flat, deep = load_backbone(name, weights), load_backbone(f"{name}@3d", weights)
    torch.manual_seed(0)
    net2 = build_network(resolve_spec(flat, "ftl", None, HeadSpec(3, SIZE)), flat).eval()
    net3 = build_network(resolve_spec(deep, "ftl", None, HeadSpec(3, SIZE)), deep).eval()
    net3.head.load_state_dict(net2.head.state_dict())
    image = torch.randn(2, 3, SIZE, SIZE)
    volume = image.unsqueeze(2).expand(2, 3, SIZE, SIZE, SIZE).contiguous()
    with torch.no_grad():
        flat_logits, deep_logits = net2(image), net3(volume)
    assert flat_logits.abs().max() > 0.01
    torch.testing.assert_close(deep_logits, flat_logits, atol=1e-4, rtol=0)


def test_inflation_repeats_each_kernel_over_depth_divided_by_depth():
    flat, deep = load_backbone("resnet18"), load_backbone("resnet18@3d:5")
    conv2, conv3 = flat.units[1].module.conv1, deep.units[1].module.conv1[1]
    assert conv3.weight.shape == (64, 64, 5, 3, 3)
    torch.testing.assert_close(conv3.weight.sum(2), conv2.weight)
    assert deep.units[1].module.bn1.running_var.equal(flat.units[1].module.bn1.running_var)
    pointwise = deep.units[3].module.downsample[0]
    assert pointwise.kernel_size == (1, 1, 1) and pointwise.stride == (2, 2, 2)


def test_inflation_refuses_what_it_cannot_make_3d():
    with pytest.raises(BackboneError, match="odd"):
        load_backbone("resnet18@3d:4")
    with pytest.raises(BackboneError, match="LayerNorm2d"):
        load_backbone("convnext_atto@3d")
    with pytest.raises(BackboneError, match="already 3D"):
        load_backbone("resnet18_3d@3d")


def test_tf_half_width_units_work_in_3d():
    for name in ("resnet18_3d", "efficientnet_lite0@3d", "r3d_18"):
        backbone = load_backbone(name)
        k = backbone.block_ends[1]
        tf, full = build_network(resolve_spec(backbone, "tf", k, HeadSpec(2, 16)), backbone), build_network(resolve_spec(backbone, "ftl", None, HeadSpec(2, 16)), backbone)
        assert count_params(tf) < count_params(full)
        with torch.no_grad():
            assert tf.eval()(torch.randn(1, 3, 16, 16, 16)).shape == (1, 2)


def test_3d_resnets_have_no_pretrained_weights_and_say_what_to_do():
    with pytest.raises(BackboneError, match="--inflate"):
        load_backbone("resnet18_3d", "pretrained")
