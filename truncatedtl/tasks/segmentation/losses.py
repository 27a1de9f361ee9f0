"""Segmentation losses: Dice + BCE for a binary mask (one logit map), Dice + CE for N classes (N maps)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def soft_dice_loss(probs: torch.Tensor, target: torch.Tensor, smooth: float = 1.0) -> torch.Tensor:
    """1 − soft Dice, averaged over channels. ``probs``, ``target``: (N, C, H, W), target one-hot (0/1);
    intersections and areas are summed over the whole batch; ``smooth`` keeps an empty class finite."""
    dims = (0, 2, 3)
    intersection = (probs * target).sum(dims)
    areas = probs.sum(dims) + target.sum(dims)
    return 1 - ((2 * intersection + smooth) / (areas + smooth)).mean()


def segmentation_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Loss of ``logits`` (N, C, H, W) against class-index masks ``target`` (N, H, W).

    C = 1: binary mask (target 0/1), BCE on the logits + Dice on their sigmoid.
    C >= 2: CE on the logits + Dice (mean over all C classes) on their softmax."""
    if logits.shape[1] == 1:
        truth = target.unsqueeze(1).to(logits.dtype)
        return F.binary_cross_entropy_with_logits(logits, truth) + soft_dice_loss(torch.sigmoid(logits), truth)
    target = target.long()
    onehot = F.one_hot(target, logits.shape[1]).permute(0, 3, 1, 2).to(logits.dtype)
    return F.cross_entropy(logits, target) + soft_dice_loss(torch.softmax(logits, 1), onehot)
