"""Weights: offline EfficientNet-Lite0, local files (never unpickled), mismatches, the hub offline."""

import pytest
import torch
from safetensors.torch import save_file

from truncatedtl.backbones import BackboneError, load_backbone
from truncatedtl.backbones.weights import efficientnet_lite0_offline


def test_offline_lite0_weights_classify_chelsea_as_a_cat():
    import timm
    from skimage import data

    state = efficientnet_lite0_offline()
    assert len(state) == 296
    model = timm.create_model("efficientnet_lite0")
    model.load_state_dict(state)
    image = torch.tensor(data.chelsea()).permute(2, 0, 1).float().div(255).unsqueeze(0)
    image = torch.nn.functional.interpolate(image, size=(224, 224), mode="bilinear", antialias=True)
    mean, std = torch.tensor(model.pretrained_cfg["mean"]), torch.tensor(model.pretrained_cfg["std"])
    with torch.no_grad():
        logits = model.eval()((image - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1))
    assert 281 <= int(logits.argmax()) <= 285


def test_pretrained_lite0_backbone_differs_from_random():
    pretrained, random = load_backbone("efficientnet_lite0", "pretrained"), load_backbone("efficientnet_lite0")
    a, b = pretrained.units[0].module[0].weight, random.units[0].module[0].weight
    assert not torch.equal(a, b)
    assert torch.equal(a, efficientnet_lite0_offline()["conv_stem.weight"])


def test_local_safetensors_and_pth_files_load(tmp_path):
    import timm

    model = timm.create_model("resnet18")
    full = {k: torch.full_like(v, 0.5) if v.is_floating_point() else v for k, v in model.state_dict().items()}
    save_file(full, str(tmp_path / "w.safetensors"))
    torch.save({"state_dict": full}, tmp_path / "w.pth")
    for file in ("w.safetensors", "w.pth"):
        backbone = load_backbone("resnet18", tmp_path / file)
        assert torch.all(backbone.units[1].module.conv1.weight == 0.5)
        assert torch.all(backbone.units[0].module[1].running_var == 0.5)


def test_weights_of_another_architecture_are_refused_with_details(tmp_path):
    import timm

    save_file(timm.create_model("resnet34").state_dict(), str(tmp_path / "r34.safetensors"))
    with pytest.raises(BackboneError, match=r"do not fit the architecture: .*unexpected"):
        load_backbone("resnet18", tmp_path / "r34.safetensors")


def test_pickled_objects_are_never_executed(tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ("executed",))

    torch.save({"model": Payload()}, tmp_path / "evil.pth")
    with pytest.raises(BackboneError, match="cannot read weights file"):
        load_backbone("resnet18", tmp_path / "evil.pth")


def test_missing_weights_file():
    with pytest.raises(BackboneError, match="does not exist"):
        load_backbone("resnet18", "/nonexistent/w.safetensors")


def test_hub_download_fails_clearly_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(BackboneError, match=r"--weights path/to/resnet18.safetensors"):
        load_backbone("resnet18", "pretrained")


def test_unknown_backbone_suggests_close_names():
    with pytest.raises(BackboneError, match="Did you mean resnet50"):
        load_backbone("resnet5O")
