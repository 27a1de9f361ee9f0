"""A tiny U-Net learns synthetic-seg on CPU in seconds, and its predictions are written at each input's
original size."""

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader

from truncatedtl.data.masks import MaskDataset, load_masks, preprocess_pairs
from truncatedtl.segmentation import build_segmentation, training_plan
from truncatedtl.segmentation.fit import evaluate, fit_segmentation
from truncatedtl.segmentation.writer import write_predictions

SIZE = 32
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def test_tiny_unet_reaches_validation_dice_above_0_9_on_synthetic_seg(tmp_path):
    data = load_masks("synthetic-seg", seed=0)
    sets = {s: MaskDataset(*preprocess_pairs(samples, SIZE, None), MEAN, STD, train=s == "train")
            for s, samples in data.splits().items()}
    torch.manual_seed(0)
    model = build_segmentation("ttl", "unet_resnet18", "none", 0, data.out_channels)
    best = fit_segmentation(model, training_plan(model, 1e-2), DataLoader(sets["train"], 16, shuffle=True),
                            DataLoader(sets["val"], 32), epochs=4)
    assert best["dice"] > 0.9 and 0 < best["jaccard"] < best["dice"]
    assert evaluate(model, DataLoader(sets["val"], 32))["dice"] == best["dice"]  # best weights loaded back
    assert evaluate(model, DataLoader(sets["test"], 32))["dice"] > 0.85

    images = []
    for i, (h, w) in enumerate([(48, 70), (128, 128)]):
        pixels = np.kron(data.test.images[i], np.ones((2, 2), dtype=np.uint8))[:h, :w]
        images.append(tmp_path / f"scan{i}.png")
        Image.fromarray(pixels).save(images[-1])
    written = write_predictions(model, images, tmp_path / "out", SIZE, MEAN, STD, probabilities=True)
    for i, path in enumerate(written):
        mask = np.asarray(Image.open(path))
        probs = np.load(path.with_suffix(".npy"))
        assert mask.shape == Image.open(images[i]).size[::-1] and probs.shape == (1, *mask.shape)
        assert set(np.unique(mask)) <= {0, 255} and np.array_equal(mask == 255, probs[0] > 0.5)
    truth = np.kron(data.test.masks[1], np.ones((2, 2), dtype=np.uint8))
    pred = np.asarray(Image.open(written[1])) == 255
    assert 2 * (pred & (truth == 1)).sum() / (pred.sum() + truth.sum()) > 0.8
    assert not list((tmp_path / "out").glob(".*tmp*"))
