"""LWFT: the bottom stays frozen (weights and BN statistics) through real training steps; the optimizer holds
exactly two learning rates, the head's η and η/10 for the finetuned layers above the cut."""

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from truncatedtl.backbones import load_backbone
from truncatedtl.engine import LoopConfig, fit
from truncatedtl.spec import HeadSpec
from truncatedtl.strategies import get_strategy
from truncatedtl.tasks import build_network, resolve_spec

SIZE = 32
LR = 1e-3


def _network(strategy: str, backbone: str, cut: int | None) -> tuple[nn.Module, int]:
    """The network and its resolved cut."""
    backbone = load_backbone(backbone)
    spec = resolve_spec(backbone, strategy, cut, HeadSpec(2, SIZE))
    return build_network(spec, backbone), spec.cut


def _loader() -> DataLoader:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(16, 3, SIZE, SIZE, generator=generator)
    return DataLoader(TensorDataset(x, torch.arange(16) % 2), batch_size=8)


@pytest.mark.parametrize("strategy, cut, frozen_units", [("lwft", 4, 5), ("linear", None, 9)])
def test_frozen_parameters_and_bn_buffers_stay_bit_identical(strategy, cut, frozen_units):
    torch.manual_seed(0)
    model, cut = _network(strategy, "resnet18", cut)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fit(model, get_strategy(strategy).plan(model, LR, cut), _loader(), _loader(), "binary", LoopConfig(max_epochs=1))
    after = model.state_dict()
    frozen = [k for k in before if k.startswith("body.") and int(k.split(".")[1]) < frozen_units]
    trained = [k for k in before if k not in frozen and not k.endswith("num_batches_tracked")]
    assert any("running_mean" in k for k in frozen)
    assert all(torch.equal(before[k], after[k]) for k in frozen), "a frozen weight or BN statistic moved"
    assert all(not p.requires_grad for n, p in model.named_parameters() if n in frozen)
    moved = [k for k in trained if not torch.equal(before[k], after[k])]
    assert set(moved) == set(trained), f"trained tensors that did not move: {set(trained) - set(moved)}"


def test_exactly_two_lr_groups_head_at_eta_the_rest_above_the_cut_at_a_tenth():
    model, cut = _network("lwft", "efficientnet_lite0", 11)
    plan = get_strategy("lwft").plan(model, LR, cut)
    optimizer = torch.optim.Adam(plan.param_groups)
    assert [g["lr"] for g in optimizer.param_groups] == [LR, LR / 10]
    names = {id(p): n for n, p in model.named_parameters()}
    head, top = ([names[id(p)] for p in g["params"]] for g in optimizer.param_groups)
    assert head and all(n.startswith("head.") for n in head)
    assert any(n.startswith("neck.") for n in top)
    assert all(n.startswith("neck.") or int(n.split(".")[1]) > 11 for n in top)
    frozen = {id(p) for m in plan.frozen for p in m.parameters()}
    assert {id(p) for p in model.parameters()} == frozen | {id(p) for g in plan.param_groups for p in g["params"]}
    assert len(plan.frozen) == 12


def test_groups_come_from_the_unwrapped_network():
    model, cut = _network("lwft", "resnet18", 4)
    plain = get_strategy("lwft").plan(model, LR, cut)
    wrapped = get_strategy("lwft").plan(nn.DataParallel(model), LR, cut)
    assert [[id(p) for p in g["params"]] for g in wrapped.param_groups] == \
        [[id(p) for p in g["params"]] for g in plain.param_groups]
    assert wrapped.param_groups[1]["params"]


def test_a_cut_that_leaves_nothing_but_the_head_is_refused():
    """Refused where the cut is resolved, before anything is built; the plan says the same of such a network."""
    with pytest.raises(ValueError, match=r"the linear strategy\); choose a --cut below 8"):
        _network("lwft", "resnet18", 8)
    model, _ = _network("ftl", "resnet18", None)
    with pytest.raises(ValueError, match=r"the linear strategy\); choose a --cut below 8"):
        get_strategy("lwft").plan(model, LR, 8)
