"""Segmentation: U-Nets on pretrained encoders, truncated symmetrically; Dice/Jaccard; mask prediction."""

from .encoders import available, load_encoder
from .losses import segmentation_loss
from .metrics import DiceJaccard
from .strategies import STRATEGIES, build_segmentation, check_strategy, training_plan, unet_for
from .unet import UNet, build_unet

__all__ = ["STRATEGIES", "DiceJaccard", "UNet", "available", "build_segmentation", "build_unet", "check_strategy", "unet_for", "load_encoder",
           "segmentation_loss", "training_plan"]
