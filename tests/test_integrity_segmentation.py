"""Segmentation read right or refused: masks empty everywhere, a ``--mask-values`` class that never occurs,
unreadable images in ``predict`` (listed, skipped with ``--skip-unreadable``), ``--out`` on a file, and
``analyze`` on a segmentation run each get a clear message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

TINY = ["--backbone", "unet_resnet18", "--strategy", "ttl", "--cut", "1", "--image-size", "32", "--max-epochs", "1",
        "--weights", "none", "--device", "cpu", "--batch-size", "4"]


def pairs(root: Path, count: int = 10, empty: bool = False) -> Path:
    """root/images/*.png + root/masks/*.png: a bright square on a dark noisy image, its mask 0/255."""
    rng = np.random.default_rng(0)
    for d in ("images", "masks"):
        (root / d).mkdir(parents=True, exist_ok=True)
    for i in range(count):
        mask = np.zeros((32, 32), np.uint8)
        if not empty:
            y, x = rng.integers(4, 20, 2)
            mask[y:y + 8, x:x + 8] = 255
        image = (rng.random((32, 32)) * 60 + (mask > 0) * 150).astype(np.uint8)
        Image.fromarray(image).save(root / "images" / f"{i}.png")
        Image.fromarray(mask).save(root / "masks" / f"{i}.png")
    return root


@pytest.fixture(scope="module")
def seg_run(tmp_path_factory) -> Path:
    """A U-Net trained one epoch on ten 32² pairs."""
    from truncatedtl.engine import RunConfig, save_run, train

    root = tmp_path_factory.mktemp("seg")
    config = RunConfig(data=str(pairs(root / "data")), backbone="unet_resnet18", strategy="ttl", cut=1, image_size=32,
                       max_epochs=1, batch_size=4, weights="none", task="segmentation")
    return save_run(train(config), root / "run")


def test_masks_empty_everywhere_are_refused_before_training(run_cli, tmp_path):
    code, out, err = run_cli("train", "--data", pairs(tmp_path / "d", empty=True), *TINY, "--out", tmp_path / "r")
    assert code == 2 and "Traceback" not in err, err
    assert "split 'train' of" in err and "every mask is empty (no pixel of class 'foreground', value 1 or 255)" in err
    assert not (tmp_path / "r").exists() and "epoch" not in out


def test_a_mask_value_that_never_occurs_is_refused_naming_the_class_and_split(run_cli, tmp_path):
    code, _, err = run_cli("train", "--data", pairs(tmp_path / "d"), *TINY, "--mask-values", "0,255,7",
                           "--out", tmp_path / "r")
    assert code == 2 and "Traceback" not in err, err
    assert "split 'train' of" in err and "class '7' (mask value 7) occurs in no mask" in err, err


def test_segmentation_predict_lists_unreadable_images_and_skips_them_on_request(run_cli, seg_run, tmp_path):
    images = tmp_path / "in"
    pairs(tmp_path / "p", count=3)
    (tmp_path / "p" / "images").rename(images)
    (images / "broken.png").write_bytes(b"not an image")
    code, out, err = run_cli("predict", seg_run, images, "--out", tmp_path / "masks")
    assert code == 1 and "wrote 3 file(s)" in out, err
    assert "1 input(s) could not be read and have no file:" in err and "broken.png" in err
    assert sorted(p.name for p in (tmp_path / "masks").iterdir()) == ["0.png", "1.png", "2.png"]
    code, out, err = run_cli("predict", seg_run, images, "--out", tmp_path / "masks2", "--skip-unreadable")
    assert code == 0 and "wrote 3 file(s)" in out and "broken.png" in err, err


def test_segmentation_predict_out_on_a_file_is_refused(run_cli, seg_run, tmp_path):
    image = pairs(tmp_path / "p", count=1) / "images" / "0.png"
    (tmp_path / "taken").write_text("x")
    code, _, err = run_cli("predict", seg_run, image, "--out", tmp_path / "taken")
    assert code == 2 and "taken is a file; a segmentation run writes a folder of mask PNGs there" in err, err
    assert "Errno" not in err


def test_analyze_on_a_segmentation_run_is_refused_clearly(run_cli, seg_run, tmp_path):
    code, _, err = run_cli("analyze", "--run", seg_run, "--out", tmp_path / "a", "--reference", "none")
    assert code == 2 and "Traceback" not in err and "AttributeError" not in err, err
    assert "is a segmentation run; ttl analyze compares the features of classification backbones" in err
