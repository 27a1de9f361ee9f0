"""U-Nets cut at every block boundary: what is reported is what exists, every parameter is used, the encoder
features are smp's, and smp's own ``encoder_depth`` would have kept the parameters we remove."""

import pytest
import segmentation_models_pytorch as smp
import torch
from segmentation_models_pytorch.encoders import get_encoder

from truncatedtl import create_model
from truncatedtl.analysis.complexity import count_params
from truncatedtl.backbones import BackboneError, available, load_backbone
from truncatedtl.backbones.weights import efficientnet_lite0_offline
from truncatedtl.tasks.segmentation.losses import segmentation_loss
from truncatedtl.tasks.segmentation.unet import build_unet

SIZE = 32
NAMES = {"unet_resnet34": "resnet34", "unet_efficientnet_lite0": "tu-efficientnet_lite0"}


@pytest.mark.parametrize("name", NAMES)
def test_params_reported_exist_fall_with_depth_and_all_receive_gradients(name):
    backbone = load_backbone(name)
    counts = []
    for cut in backbone.block_ends:
        torch.manual_seed(0)
        model = build_unet(backbone, cut, 1)
        reported = count_params(model)
        assert reported == sum(p.numel() for p in model.parameters())
        state = model.state_dict()
        assert reported == sum(state[n].numel() for n, _ in model.named_parameters())
        assert all(int(k.split(".")[1]) <= cut for k in state if k.startswith("encoder."))
        x = torch.randn(2, 3, SIZE, SIZE)
        logits = model(x)
        assert logits.shape == (2, 1, SIZE, SIZE)
        segmentation_loss(logits, (x[:, 0] > 0).long()).backward()
        # None = not on the path from input to loss (DDP's "unused parameter"). A value can be exactly 0: a BN
        # bias whose only way on is a conv + training-mode BN, where a per-channel constant cancels.
        unused = [n for n, p in model.named_parameters() if p.grad is None]
        assert not unused, f"cut {cut}: parameters without gradient: {unused[:5]}"
        counts.append(reported)
    assert all(a < b for a, b in zip(counts, counts[1:])), counts


@pytest.mark.parametrize("name", NAMES)
def test_smp_encoder_depth_keeps_what_our_cut_removes(name):
    backbone = load_backbone(name)
    depth = 3
    cut = next(p.index for p in backbone.cut_points if p.stride == 2 ** depth)  # first unit at 1/8
    ours = count_params(build_unet(backbone, cut, 1))
    theirs = smp.Unet(NAMES[name], encoder_depth=depth, encoder_weights=None, decoder_channels=(64, 32, 16))
    segmentation_loss(theirs(torch.randn(2, 3, SIZE, SIZE)), torch.zeros(2, SIZE, SIZE)).backward()
    assert any(p.grad is None for p in theirs.encoder.parameters())
    assert count_params(theirs.encoder) == count_params(smp.Unet(NAMES[name], encoder_weights=None).encoder)
    assert ours < count_params(theirs)
    full = smp.Unet(NAMES[name], encoder_weights=None, classes=1)
    assert count_params(build_unet(backbone, backbone.last_cut, 1)) == count_params(full)


@pytest.mark.parametrize("name", available(task="segmentation"))
def test_skip_features_are_smps_and_match_the_declared_cut_points(name):
    """Contract over every registered U-Net backbone."""
    backbone = load_backbone(name)
    encoder = name.removeprefix("unet_")
    with torch.random.fork_rng():
        torch.manual_seed(0)  # load_backbone's random init
        reference = get_encoder(encoder if encoder.startswith("resnet") else f"tu-{encoder}", weights=None).eval()
    model = build_unet(backbone, backbone.last_cut, 1).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        ours, theirs = model.features(x), reference(x)
    assert len(ours) == len(theirs) == 6
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs))
    with torch.no_grad():
        for point in backbone.cut_points:
            out = build_unet(backbone, point.index, 1).eval().features(x)[-1]
            assert out.shape[1:] == (point.channels, 64 // point.stride, 64 // point.stride), point


def test_offline_imagenet_weights_reach_the_efficientnet_lite0_encoder():
    offline = efficientnet_lite0_offline()
    model = create_model("unet_efficientnet_lite0", 3, weights="pretrained")
    assert torch.equal(model.encoder[0][0].weight, offline["conv_stem.weight"])
    assert torch.equal(model.encoder[3][0].conv_pwl.weight, offline["blocks.2.0.conv_pwl.weight"])
    assert torch.equal(model.encoder[1][0].bn1.running_var, offline["blocks.0.0.bn1.running_var"])


def test_resnet34_weights_from_a_local_file_and_a_clear_error_without_the_hub(tmp_path, monkeypatch):
    from safetensors.torch import save_file

    with torch.random.fork_rng():
        torch.manual_seed(7)
        source = get_encoder("resnet34", weights=None)
    state = {k: v.contiguous() for k, v in source.state_dict().items()}
    state["fc.weight"], state["fc.bias"] = torch.zeros(1000, 512), torch.zeros(1000)  # an ImageNet classifier
    save_file(state, str(tmp_path / "resnet34.safetensors"))
    model = create_model("unet_resnet34", 2, weights=tmp_path / "resnet34.safetensors")
    assert torch.equal(model.encoder[2][0].conv1.weight, source.layer2[0].conv1.weight)
    assert torch.equal(model.encoder[0][1].running_mean, source.bn1.running_mean)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(BackboneError, match=r"not reachable.*--weights path/to/resnet34\.safetensors"):
        load_backbone("unet_resnet34", "pretrained")
