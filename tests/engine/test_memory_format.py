"""Channels-last only where measured faster: the same logits in either format, the choice measured and recorded."""

from __future__ import annotations

import json

import pytest
import torch

from truncatedtl.backbones import load_backbone
from truncatedtl.engine.memory_format import MARGIN, choose_memory_format, torch_format
from truncatedtl.spec import HeadSpec
from truncatedtl.tasks import build_network, resolve_spec


@pytest.mark.parametrize(("name", "cut", "size"), [("resnet18", 3, 32), ("efficientnet_lite0", 5, 32),
                                                   ("resnet18_3d", 2, 16), ("efficientnet_lite0@3d", 3, 16)])
def test_channels_last_gives_the_same_logits(name: str, cut: int, size: int) -> None:
    backbone = load_backbone(name, "none")
    torch.manual_seed(0)
    model = build_network(resolve_spec(backbone, "ttl", cut, HeadSpec(3, size)), backbone).eval()
    x = torch.randn(2, *backbone.input_shape(size))
    with torch.no_grad():
        plain = model(x)
        model.to(memory_format=torch_format("channels_last", backbone.spatial_dims))
        last = model(x.contiguous(memory_format=torch_format("channels_last", backbone.spatial_dims)))
    assert torch.allclose(plain, last, atol=1e-5, rtol=0)


def test_auto_measures_both_formats_and_keeps_channels_last_only_when_faster() -> None:
    backbone = load_backbone("resnet18", "none")
    model = build_network(resolve_spec(backbone, "ttl", 2, HeadSpec(2, 32)), backbone)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    chosen = choose_memory_format("auto", model, (3, 32, 32), torch.device("cpu"), 64, steps=100)
    assert torch.equal(torch.get_rng_state(), rng)  # the run's random draws do not depend on the probe
    assert chosen.how == "measured" and chosen.probe_batch == 16
    assert chosen.contiguous_ms > 0 and chosen.channels_last_ms > 0
    faster = chosen.channels_last_ms < MARGIN * chosen.contiguous_ms
    assert chosen.name == ("channels_last" if faster else "contiguous")
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # probed on a copy
    assert choose_memory_format("auto", model, (3, 32, 32), torch.device("cpu"), 64, steps=100) is chosen
    assert choose_memory_format("auto", model, (3, 32, 32), torch.device("cpu"), 64, steps=19).as_dict() == {
        "name": "contiguous", "how": "not measured"}
    assert choose_memory_format("channels_last", model, (3, 32, 32), torch.device("cpu"), 64, 1).how == "given"


def test_the_run_records_its_memory_format(run_cli, tmp_path) -> None:
    args = ("train", "--data", "synthetic", "--backbone", "resnet18", "--strategy", "ttl", "--cut", "2",
            "--image-size", "32", "--max-epochs", "1", "--limit", "16", "--weights", "none")
    code, _, err = run_cli(*args, "--memory-format", "channels_last", "--out", tmp_path / "run")
    assert code == 0, err
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert result["memory_format"] == {"name": "channels_last", "how": "given"}
    code, _, err = run_cli(*args, "--memory-format", "nhwc", "--out", tmp_path / "bad")
    assert code == 2 and "--memory-format 'nhwc'" in err
