"""Any checkpoint as a source: key mapping (prefixes, known layouts, shapes), its report, and refusals."""

import pytest
import timm
import torch
import torchvision
from torch import nn

from truncatedtl.backbones import BackboneError, load_backbone
from truncatedtl.backbones.weights import match_keys


def _resnet18_target():
    """A random timm resnet18 and its 9 units (stem + 8 residual units), as load_backbone decomposes it."""
    from truncatedtl.backbones.resnet import ResNetFamily

    model = timm.create_model("resnet18")
    units, _ = ResNetFamily().decompose(model)
    return model, [u.module for u in units]


def _torchvision_resnet18() -> dict[str, torch.Tensor]:
    torch.manual_seed(1)
    return torchvision.models.resnet18().state_dict()


def test_torchvision_layout_behind_a_dataparallel_prefix(tmp_path, capsys):
    state = _torchvision_resnet18()
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}}, tmp_path / "tv.pth")
    model, units = _resnet18_target()
    _, report = match_keys(model, units, torch.load(tmp_path / "tv.pth")["state_dict"], "tv.pth")
    assert (report.layout, report.prefix) == ("timm/torchvision", "module.")
    assert len(report.matched) == 120 and report.classifier == ["fc.bias", "fc.weight"]
    assert (report.missing, report.unexpected, report.mismatched) == ([], [], [])
    assert (report.covered, report.units) == (9, 9)

    backbone = load_backbone("resnet18", tmp_path / "tv.pth")
    assert torch.equal(backbone.units[0].module[0].weight, state["conv1.weight"])
    assert torch.equal(backbone.units[8].module.bn2.running_var, state["layer4.1.bn2.running_var"])
    printed = capsys.readouterr().err
    assert "prefix 'module.' stripped" in printed and "9/9 units covered (100%)" in printed


def test_timm_layout_is_exact_and_loads_silently(tmp_path, capsys):
    torch.manual_seed(2)
    state = timm.create_model("resnet18").state_dict()
    model, units = _resnet18_target()
    _, report = match_keys(model, units, state, "timm")
    assert report.exact and report.coverage == 1.0 and report.used == 1.0
    torch.save(state, tmp_path / "timm.pth")
    backbone = load_backbone("resnet18", tmp_path / "timm.pth")
    assert torch.equal(backbone.units[3].module.conv1.weight, state["layer2.0.conv1.weight"])
    assert capsys.readouterr().err == ""


def test_resnet_saved_as_a_sequential_of_its_children():
    tv = torchvision.models.resnet18()
    state = nn.Sequential(*list(tv.children())[:-2]).state_dict()  # keys 0.weight, 1.running_mean, 4.0.conv1 ...
    model, units = _resnet18_target()
    fits, report = match_keys(model, units, state, "children")
    assert report.layout == "ResNet as nn.Sequential of its children"
    assert torch.equal(fits["layer1.0.conv1.weight"], state["4.0.conv1.weight"])
    assert (report.covered, len(report.missing), report.classifier) == (9, 0, [])


def test_partial_checkpoint_is_refused_below_the_coverage_and_loaded_above_it(tmp_path):
    state = {k: v for k, v in _torchvision_resnet18().items() if not k.startswith("layer4.")}
    torch.save(state, tmp_path / "no_layer4.pth")
    with pytest.raises(BackboneError, match=r"7/9 units covered.*at least 90%.*30 missing"):
        load_backbone("resnet18", tmp_path / "no_layer4.pth")
    backbone = load_backbone("resnet18", tmp_path / "no_layer4.pth", min_coverage=0.75)
    assert torch.equal(backbone.units[6].module.conv2.weight, state["layer3.1.conv2.weight"])
    random = load_backbone("resnet18")  # layer4 keeps the random init every load_backbone starts from
    assert torch.equal(backbone.units[7].module.conv1.weight, random.units[7].module.conv1.weight)


def test_shape_mismatch_is_reported_per_key():
    state = timm.create_model("resnet18", in_chans=1).state_dict()
    model, units = _resnet18_target()
    _, report = match_keys(model, units, state, "gray")
    assert report.mismatched == ["conv1.weight (64, 1, 7, 7) vs (64, 3, 7, 7)"]
    assert report.covered == 8  # the stem's convolution does not fit
    assert "mismatched  1: conv1.weight (64, 1, 7, 7) vs (64, 3, 7, 7)" in report.text()


def test_unrelated_checkpoint_is_refused(tmp_path):
    torch.save(timm.create_model("densenet121").state_dict(), tmp_path / "densenet.pth")
    with pytest.raises(BackboneError, match=r"do not fit the architecture: 0/9 units covered, 0% of the file's "
                                            r"tensors used .* 120 missing"):
        load_backbone("resnet18", tmp_path / "densenet.pth")
