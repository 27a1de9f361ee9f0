"""Dice/Jaccard accumulated batch by batch equal a plain NumPy computation over the whole split; the losses
are low for a right prediction and high for a wrong one."""

import numpy as np
import torch

from truncatedtl.tasks.segmentation.losses import segmentation_loss
from truncatedtl.tasks.segmentation.metrics import DiceJaccard


def _numpy_reference(pred: np.ndarray, truth: np.ndarray, classes: list[int]) -> tuple[list[float], list[float]]:
    dice, jaccard = [], []
    for c in classes:
        p, t = pred == c, truth == c
        inter, union = np.logical_and(p, t).sum(), np.logical_or(p, t).sum()
        dice.append(2 * inter / (p.sum() + t.sum()))
        jaccard.append(inter / union)
    return dice, jaccard


def test_multiclass_streaming_scores_equal_numpy_over_the_whole_split():
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(10, 4, 12, 12, generator=generator)
    truth = torch.randint(0, 4, (10, 12, 12), generator=generator)
    truth[logits.argmax(1) == 2] = 2  # make one class much better predicted than the others
    metric = DiceJaccard(4)
    for chunk in range(0, 10, 3):
        metric.update(logits[chunk:chunk + 3], truth[chunk:chunk + 3])
    scores = metric.compute()
    dice, jaccard = _numpy_reference(logits.argmax(1).numpy(), truth.numpy(), [0, 1, 2, 3])
    assert np.allclose(list(scores["dice_per_class"].values()), dice)
    assert np.allclose(list(scores["jaccard_per_class"].values()), jaccard)
    assert np.isclose(scores["dice"], np.mean(dice)) and np.isclose(scores["jaccard"], np.mean(jaccard))
    assert scores["dice_per_class"]["2"] > 0.6 > scores["dice_per_class"]["0"]


def test_binary_scores_the_foreground_of_one_logit_map():
    generator = torch.Generator().manual_seed(1)
    logits = torch.randn(6, 1, 9, 9, generator=generator)
    truth = (torch.randn(6, 9, 9, generator=generator) + logits[:, 0] > 0).long()
    metric = DiceJaccard(1)
    metric.update(logits[:4], truth[:4])
    metric.update(logits[4:], truth[4:])
    scores = metric.compute()
    dice, jaccard = _numpy_reference((logits[:, 0] > 0).long().numpy(), truth.numpy(), [1])
    assert list(scores["dice_per_class"]) == ["1"]
    assert np.isclose(scores["dice"], dice[0]) and np.isclose(scores["jaccard"], jaccard[0])
    assert np.isclose(scores["jaccard"], scores["dice"] / (2 - scores["dice"]))  # J = D / (2 - D)


def test_a_class_absent_everywhere_is_left_out_of_the_mean():
    metric = DiceJaccard(3)
    truth = torch.zeros(1, 4, 4, dtype=torch.long)
    truth[0, :2] = 1
    logits = torch.nn.functional.one_hot(truth, 3).permute(0, 3, 1, 2).float()
    metric.update(logits, truth)
    scores = metric.compute()
    assert np.isnan(scores["dice_per_class"]["2"])
    assert scores["dice"] == 1.0 and scores["jaccard"] == 1.0


def test_losses_low_when_right_high_when_wrong():
    truth = torch.zeros(2, 8, 8, dtype=torch.long)
    truth[:, 2:6, 2:6] = 1
    right, wrong = (truth.float() * 2 - 1) * 10, (1 - truth.float() * 2) * 10
    assert segmentation_loss(right[:, None], truth) < 0.01 < 1.5 < segmentation_loss(wrong[:, None], truth)
    onehot = torch.nn.functional.one_hot(truth, 3).permute(0, 3, 1, 2).float() * 20
    assert segmentation_loss(onehot, truth) < 0.05
    assert segmentation_loss(onehot.flip(1), truth) > 1.5
