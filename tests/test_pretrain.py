"""``ttl pretrain``: source checkpoints, their round trip into every strategy, multi-label sources with
CheXpert's uncertain-label policies."""

import csv
import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from tests.conftest import write_png
from truncatedtl.backbones import BackboneError, load_backbone
from truncatedtl.data import DataError, load_data
from truncatedtl.engine import RunConfig
from truncatedtl.pretrain import PretrainConfig, group_labels, pretrain, save_source
from truncatedtl.spec import HeadSpec
from truncatedtl.tasks import build_network, resolve_spec
from truncatedtl.tasks.classification.metrics import loss_fn

TINY = {"image_size": 32, "max_epochs": 1, "batch_size": 16, "lr": 1e-3}


@pytest.fixture(scope="module")
def source_dir(tmp_path_factory):
    """resnet18 from random init, pretrained one epoch on the synthetic set (32 images per split)."""
    out = tmp_path_factory.mktemp("src") / "source"
    config = PretrainConfig(RunConfig(data="synthetic", backbone="resnet18", strategy="ftl", weights="none", limit=32,
                                      **TINY))
    return save_source(out, *pretrain(config))


def test_source_checkpoint_holds_the_backbone_and_its_metadata(source_dir):
    meta = json.loads((source_dir / "source.json").read_text())
    assert meta["backbone"] == "resnet18" and meta["data"] == "synthetic" and meta["task"] == "binary"
    assert meta["labels"] == ["plain", "textured"] and meta["samples"] == {"train": 32, "val": 32, "test": 32}
    assert 0 <= meta["scores"]["test"]["auroc"] <= 1
    state = load_file(str(source_dir / "source.safetensors"))
    assert len(state) == 120 and "fc.weight" not in state  # timm layout, the source classifier left out
    random = load_backbone("resnet18", "none")
    assert not torch.equal(state["layer1.0.conv1.weight"], random.units[1].module.conv1.weight)  # it trained


@pytest.mark.parametrize("strategy", ["ttl", "tf", "lwft", "ftl"])
def test_pretrain_then_transfer_keeps_the_source_tensors(source_dir, strategy):
    state = load_file(str(source_dir / "source.safetensors"))
    backbone = load_backbone("resnet18", source_dir)
    net = build_network(resolve_spec(backbone, strategy, 2, HeadSpec(2, image_size=32)), backbone)
    stem = {f"{i}.{k}": f"{name}.{k}" for i, name in ((0, "conv1"), (1, "bn1"))
            for k in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")}
    kept = {**{f"body.0.{a}": b for a, b in stem.items() if b in state},
            **{f"body.{k}.{p}": f"layer1.{k - 1}.{p}" for k in (1, 2)
               for p in load_backbone("resnet18").units[k].module.state_dict()}}
    own = net.state_dict()
    assert len(kept) == 6 + 2 * 12  # stem conv + BN (5 tensors), two basic blocks of 12
    for ours, theirs in kept.items():
        assert torch.equal(own[ours], state[theirs]), ours


def test_a_source_checkpoint_of_another_backbone_is_refused(source_dir):
    with pytest.raises(BackboneError, match="holds resnet18, not resnet34"):
        load_backbone("resnet34", source_dir)


def test_cli_pretrain_then_train(run_cli, tmp_path):
    code, out, err = run_cli("pretrain", "--data", "synthetic", "--backbone", "resnet18", "--weights", "none",
                             "--image-size", "32", "--max-epochs", "1", "--limit", "32", "--out", tmp_path / "src")
    assert code == 0, err
    assert "source checkpoint written" in out and (tmp_path / "src" / "source.safetensors").is_file()
    code, out, err = run_cli("train", "--data", "synthetic", "--backbone", "resnet18", "--weights", tmp_path / "src",
                             "--strategy", "ttl", "--cut", "2", "--image-size", "32", "--max-epochs", "1",
                             "--limit", "32", "--out", tmp_path / "run")
    assert code == 0, err
    assert json.loads((tmp_path / "run" / "result.json").read_text())["weights"] == str(tmp_path / "src")


# A tiny multi-label manifest: 24 images (12 train, 6 val, 6 test); 'c' holds uncertain (-1) and blank cells.
A = [1, 0, 1, 0, 1, 0]
B = [1, 1, 0, 0, 1, 0]
C = ["1", "0", "-1", "", "-1", "0"]
EXPECTED_C = {"ignore": [1, 0, -1, 0, -1, 0], "zeros": [1, 0, 0, 0, 0, 0], "ones": [1, 0, 1, 0, 1, 0]}
EXPECTED_MASK_C = {"ignore": [1, 1, 0, 1, 0, 1], "zeros": [1] * 6, "ones": [1] * 6}


@pytest.fixture
def manifest(tmp_path):
    rows = []
    for i in range(24):
        split = "train" if i < 12 else "val" if i < 18 else "test"
        rows.append({"path": write_png(tmp_path / f"{i}.png", 10 * i, size=24).name,
                     "a": A[i % 6], "b": B[i % 6], "c": C[i % 6], "split": split})
    path = tmp_path / "findings.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_uncertain_and_blank_cells_need_a_policy(manifest):
    with pytest.raises(DataError, match=r"findings.csv row 4 column c: uncertain \(-1\) label; choose an "
                                        r"uncertain-label policy \(ignore\|zeros\|ones\)"):
        load_data(manifest)


@pytest.mark.parametrize("policy", ["ignore", "zeros", "ones"])
def test_multilabel_pretraining_with_each_uncertain_policy(manifest, tmp_path, policy):
    data = load_data(manifest, uncertain=policy)
    assert data.kind == "multilabel" and data.classes == ["a", "b", "c"]
    labels = data.train.labels
    np.testing.assert_array_equal(labels[:6], np.array([A, B, EXPECTED_C[policy]], dtype=np.float32).T)
    mask = (labels >= 0).astype(int)
    np.testing.assert_array_equal(mask[:6], np.array([[1] * 6, [1] * 6, EXPECTED_MASK_C[policy]]).T)

    # The loss averages binary cross-entropy over the unmasked entries only.
    logits = torch.linspace(-2, 2, 18).reshape(6, 3)
    target = torch.tensor(labels[:6])
    keep = torch.tensor(mask[:6], dtype=torch.bool)
    p = torch.sigmoid(logits[keep])
    expected = -(target[keep] * p.log() + (1 - target[keep]) * (1 - p).log()).mean()
    assert torch.allclose(loss_fn(logits, target, "multilabel"), expected)

    config = PretrainConfig(RunConfig(data=str(manifest), backbone="resnet18", strategy="ftl", weights="none", **TINY),
                            uncertain=policy)
    meta, state, history = pretrain(config)
    assert meta["uncertain"] == policy and meta["labels"] == ["a", "b", "c"] and meta["task"] == "multilabel"
    assert np.isfinite(history[0]["train_loss"]) and 0 <= meta["scores"]["val"]["auroc"] <= 1
    assert "layer4.1.bn2.running_var" in state


def test_labels_and_label_groups_choose_what_is_pretrained(manifest):
    meta, _, _ = pretrain(PretrainConfig(RunConfig(data=str(manifest), backbone="resnet18", strategy="ftl",
                                                   weights="none", **TINY), uncertain="ignore", labels=("c", "a")))
    assert meta["labels"] == ["c", "a"]
    groups = {"ab": ["a", "b"], "c": ["c"]}
    labels = np.array([[1, 0, 0], [0, 0, -1], [0, 0, 0], [0, 1, -1]], dtype=np.float32)
    np.testing.assert_array_equal(group_labels(labels, ["a", "b", "c"], groups), [[1, 0], [0, -1], [0, 0], [1, -1]])
    with pytest.raises(DataError, match="no label column d"):
        group_labels(labels, ["a", "b", "c"], {"x": ["a", "d"]})


def test_a_label_known_only_as_one_value_besides_masked_entries_is_refused(tmp_path):
    from truncatedtl.data import DataSplits, Samples
    from truncatedtl.data.splits import check_classes

    labels = np.array([[1, 0], [0, 1], [-1, 0], [0, 1]], dtype=np.float32)
    masked = np.array([[1, 0], [-1, 1], [-1, 0], [1, 1]], dtype=np.float32)  # label 'a': only 1 where known
    items = np.zeros((4, 8, 8), np.uint8)
    data = DataSplits(Samples(items, labels), Samples(items, masked), Samples(items, labels), ["a", "b"], "m.csv")
    with pytest.raises(DataError, match="split 'val' of m.csv: label 'a' takes one value only"):
        check_classes(data)
