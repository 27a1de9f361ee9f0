"""What each segmentation strategy builds and trains: ttl smaller than ftl, lwft/linear frozen parts stay
bit-identical through training steps (BN statistics too), tf and bad cuts refused with the reason."""

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from truncatedtl.api import model_spec
from truncatedtl.engine import LoopConfig, fit
from truncatedtl.strategies import TrainingPlan
from truncatedtl.tasks import build_network, get_task

SIZE = 32
LR = 1e-3


def _unet(strategy: str, cut: int | None, num_classes: int = 2) -> tuple[torch.nn.Module, TrainingPlan]:
    """The U-Net ``strategy`` trains on unet_resnet18 at ``cut`` for ``num_classes`` mask classes, and its plan."""
    spec, backbone = model_spec("unet_resnet18", cut, num_classes, "none", strategy)
    model = build_network(spec, backbone)
    return model, get_task("segmentation").plan(spec, model, LR)


def _loader() -> DataLoader:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(8, 3, SIZE, SIZE, generator=generator)
    return DataLoader(TensorDataset(x, (x[:, 0] > 0).long()), batch_size=4)


def test_ttl_is_the_full_unet_minus_what_lies_above_the_cut():
    full, _ = _unet("ftl", None)
    cut, _ = _unet("ttl", 2)
    assert len(full.encoder) == 5 and len(cut.encoder) == 3
    assert [len(full.decoder.blocks), len(cut.decoder.blocks)] == [5, 3]
    assert [b.conv2[0].out_channels for b in cut.decoder.blocks] == [64, 32, 16]
    assert [b.conv2[0].out_channels for b in full.decoder.blocks][2:] == [64, 32, 16]
    assert all(torch.equal(a, b) for a, b in zip(cut.encoder.state_dict().values(),
                                                 full.encoder[:3].state_dict().values()))


@pytest.mark.parametrize("strategy, cut, frozen_units", [("lwft", 2, 3), ("linear", None, 5)])
def test_frozen_encoder_units_and_bn_statistics_do_not_move(strategy, cut, frozen_units):
    torch.manual_seed(0)
    model, plan = _unet(strategy, cut)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    fit(model, plan, _loader(), _loader(), "segmentation", LoopConfig(lr=LR, max_epochs=1),
        task=get_task("segmentation"))
    after = model.state_dict()
    frozen = [k for k in before if k.startswith("encoder.") and int(k.split(".")[1]) < frozen_units]
    trained = [k for k in before if k not in frozen and not k.endswith("num_batches_tracked")]
    assert any("running_mean" in k for k in frozen)
    assert all(torch.equal(before[k], after[k]) for k in frozen), "a frozen weight or BN statistic moved"
    moved = [k for k in trained if not torch.equal(before[k], after[k])]
    assert set(moved) == set(trained), f"trained tensors that did not move: {set(trained) - set(moved)}"


def test_lwft_groups_new_parts_at_eta_and_the_encoder_above_the_cut_at_a_tenth():
    model, plan = _unet("lwft", 2)
    assert [g["lr"] for g in plan.param_groups] == [LR, LR / 10]
    names = {id(p): n for n, p in model.named_parameters()}
    new, top = ([names[id(p)] for p in g["params"]] for g in plan.param_groups)
    assert all(n.startswith(("decoder.", "head.")) for n in new)
    assert top and all(n.startswith(("encoder.3.", "encoder.4.")) for n in top)
    frozen = {id(p) for m in plan.frozen for p in m.parameters()}
    assert {id(p) for p in model.parameters()} == frozen | {id(p) for g in plan.param_groups for p in g["params"]}
    assert len(frozen) + len(new) + len(top) == len(names)


def test_ftl_and_ttl_train_everything_at_one_rate():
    for strategy, cut in (("ftl", None), ("ttl", 1)):
        model, plan = _unet(strategy, cut, 3)
        assert not plan.frozen and {g["lr"] for g in plan.param_groups} == {LR}
        assert sum(len(g["params"]) for g in plan.param_groups) == len(list(model.parameters()))
        # encoder pretrained, decoder and head fresh: a recipe may treat them apart
        encoder = {id(p) for p in model.encoder.parameters()}
        assert all(all((id(p) in encoder) == g["pretrained"] for p in g["params"]) for g in plan.param_groups)
        assert model.eval()(torch.zeros(1, 3, SIZE, SIZE)).shape == (1, 3, SIZE, SIZE)


@pytest.mark.parametrize("strategy, cut, message", [
    ("tf", 2, "not available for segmentation: TransFusion"),
    ("ttl", None, "needs a cut point"),
    ("ttl", 9, "out of range"),
    ("lwft", 4, "that is the linear strategy"),
    ("svcca", 2, "unknown strategy 'svcca'"),
])
def test_refusals_say_why(strategy, cut, message):
    with pytest.raises(ValueError, match=message):
        _unet(strategy, cut)
