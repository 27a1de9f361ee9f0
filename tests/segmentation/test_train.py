"""A tiny U-Net learns synthetic-seg on CPU in seconds through the training loop, and its predictions are
written at each input's original size; compare and search run end to end on segmentation."""

import json

import numpy as np
import pytest
from PIL import Image

from truncatedtl.data.masks import load_masks
from truncatedtl.engine import RunConfig, evaluate_checkpoint, load_run, prepare, save_run, train
from truncatedtl.evidence import Predictions
from truncatedtl.tasks.segmentation.writer import write_predictions

SIZE = 32
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def test_tiny_unet_reaches_validation_dice_above_0_9_on_synthetic_seg(tmp_path):
    data = load_masks("synthetic-seg", seed=0)
    config = RunConfig(data="synthetic-seg", backbone="unet_resnet18", strategy="ttl", cut=0, task="segmentation",
                       image_size=SIZE, max_epochs=4, lr=1e-2, batch_size=16, weights="none")
    prepared = prepare(config)
    run = train(config, prepared)
    best = run.result.val
    assert run.result.monitor == "dice" and run.result.task == "segmentation"
    assert best["dice"] > 0.9 and 0 < best["jaccard"] < best["dice"]
    assert run.result.test["dice"] > 0.85
    save_run(run, tmp_path / "run")
    checkpoint = tmp_path / "run" / "model.safetensors"
    assert evaluate_checkpoint(config, run.spec, checkpoint, prepared, "val")[0]["dice"] == best["dice"]  # the best's
    model = load_run(tmp_path / "run").model

    images = []
    for i, (h, w) in enumerate([(48, 70), (128, 128)]):
        pixels = np.kron(data.test.images[i], np.ones((2, 2), dtype=np.uint8))[:h, :w]
        images.append(tmp_path / f"scan{i}.png")
        Image.fromarray(pixels).save(images[-1])
    written, unreadable = write_predictions(model, images, tmp_path / "out", SIZE, MEAN, STD, probabilities=True)
    assert unreadable == []
    for i, path in enumerate(written):
        mask = np.asarray(Image.open(path))
        probs = np.load(path.with_suffix(".npy"))
        assert mask.shape == Image.open(images[i]).size[::-1] and probs.shape == (1, *mask.shape)
        assert set(np.unique(mask)) <= {0, 255} and np.array_equal(mask == 255, probs[0] > 0.5)
    truth = np.kron(data.test.masks[1], np.ones((2, 2), dtype=np.uint8))
    pred = np.asarray(Image.open(written[1])) == 255
    assert 2 * (pred & (truth == 1)).sum() / (pred.sum() + truth.sum()) > 0.7  # a 2x upscaled scan, back at 128 px
    assert not list((tmp_path / "out").glob(".*tmp*"))


def test_compare_and_search_run_on_segmentation(run_cli, tmp_path):
    tiny = ["--data", "synthetic-seg", "--backbone", "unet_resnet18", "--task", "segmentation", "--image-size",
            "32", "--max-epochs", "1", "--limit", "24", "--weights", "none", "--repeats", "1"]
    code, _, err = run_cli("compare", *tiny, "--strategies", "ftl,ttl,lwft", "--cut", "2", "--out", tmp_path / "c")
    assert code == 0, err
    header = (tmp_path / "c" / "table.csv").read_text().splitlines()[0].split(",")
    assert header[:6] == ["strategy", "cut", "jaccard_mean", "jaccard_std", "jaccard_low", "jaccard_high"]
    compared = json.loads((tmp_path / "c" / "report.json").read_text())
    assert [(e["strategy"], e["metric"], e["p_value"]) for e in compared["versus_ftl"]] == [
        (s, m, None) for s in ("ttl", "lwft") for m in ("jaccard", "dice")]  # paired bootstrap of per-image counts
    assert "test Jaccard [95 % CI] | test Dice [95 % CI]" in (tmp_path / "c" / "table.md").read_text()
    code, out, err = run_cli("search", *tiny, "--method", "two-stage", "--out", tmp_path / "s")
    assert code == 0, err
    report = json.loads((tmp_path / "s" / "report.json").read_text())
    assert report["scores"] == ["jaccard", "dice"] and report["chosen_cut"] in (1, 2, 3, 4)
    assert set(report["chosen"]["test"]) == set(report["ftl"]["test"]) == {"jaccard", "dice"}
    assert report["no_truncation"] == [max(row["cut"] for row in report["by_cut"])]  # the whole encoder: FTL's U-Net
    kept = Predictions.load(tmp_path / "s" / "trials" / f"{report['ftl']['trials'][0]}.predictions_test.npz")
    assert kept.kind == "segmentation" and kept.counts.shape[1:] == (3, 1)
    assert kept.score("dice")[0] == pytest.approx(report["ftl"]["test"]["dice"]["mean"], abs=1e-6)
    assert all("test" not in json.loads(p.read_text()) for p in (tmp_path / "s" / "trials").glob("*.json"))
    code, _, err = run_cli("search", *tiny, "--method", "logme", "--out", tmp_path / "e")
    assert code == 2 and "segmentation searches train" in err


def test_predict_cli_writes_masks_and_refuses_npz_arrays(run_cli, tmp_path):
    tiny = ["--data", "synthetic-seg", "--backbone", "unet_resnet18", "--strategy", "ttl", "--cut", "1",
            "--image-size", "32", "--max-epochs", "1", "--limit", "16", "--weights", "none"]
    assert run_cli("train", *tiny, "--out", tmp_path / "run")[0] == 0
    Image.fromarray((np.arange(50 * 70) % 255).reshape(50, 70).astype(np.uint8)).save(tmp_path / "scan.png")
    code, out, err = run_cli("predict", tmp_path / "run", tmp_path / "scan.png", "--out", tmp_path / "masks")
    assert code == 0, err
    mask = np.asarray(Image.open(tmp_path / "masks" / "scan.png"))
    assert mask.shape == (50, 70) and set(np.unique(mask)) <= {0, 255}
    np.savez(tmp_path / "x.npz", images=np.zeros((2, 32, 32), np.uint8))
    code, _, err = run_cli("predict", tmp_path / "run", tmp_path / "x.npz", "--out", tmp_path / "m2")
    assert code == 2 and "not .npz arrays" in err
