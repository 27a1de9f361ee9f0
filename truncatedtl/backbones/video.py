"""torchvision video ResNets (``r3d_18``, ``r2plus1d_18``): stem + every residual unit, the four layers as
blocks. The stems keep depth (stride 1×2×2), so strides differ per axis. Kinetics-400 weights download from
torchvision's hub (download.pytorch.org) where the network allows it."""

from __future__ import annotations

import torchvision.models.video as tvv
from torch import nn
from torchvision.models.video.resnet import BasicBlock

from ._base import Backbone, BackboneError, Family, Unit, out_channels

# Kinetics-400 preprocessing of torchvision's video weights.
_KINETICS = {"mean": (0.43216, 0.394666, 0.37645), "std": (0.22803, 0.22145, 0.216989)}
_WEIGHTS = {"r3d_18": tvv.R3D_18_Weights.KINETICS400_V1, "r2plus1d_18": tvv.R2Plus1D_18_Weights.KINETICS400_V1}


class VideoResNetFamily(Family):
    spatial_dims = 3

    def create(self, name: str, pretrained: bool) -> nn.Module:
        """The random network; Kinetics weights come through :func:`kinetics_weights`."""
        model = getattr(tvv, name)(weights=None)
        model.pretrained_cfg = _KINETICS
        return model

    def decompose(self, model: nn.Module) -> tuple[list[Unit], nn.Module | None]:
        units = [Unit("stem", 0, model.stem)]
        for b in range(1, 5):
            units += [Unit(f"layer{b}.{i}", b, unit) for i, unit in enumerate(getattr(model, f"layer{b}"))]
        return units, None

    def halve(self, backbone: Backbone, cut: int) -> tuple[list[nn.Module], nn.Module | None]:
        """Every residual unit above ``cut`` rebuilt with half its planes (same conv kind and stride), with a
        1×1×1 conv + BN shortcut where widths differ or it strides; torchvision's init."""
        channels = backbone.cut_points[cut].channels
        units = []
        for unit in (u.module for u in backbone.units[cut + 1:]):
            builder = type(unit.conv1[0])
            half = out_channels(unit) // 2
            downsample = None
            if unit.stride != 1 or channels != half:
                downsample = nn.Sequential(
                    nn.Conv3d(channels, half, 1, stride=builder.get_downsample_stride(unit.stride), bias=False),
                    nn.BatchNorm3d(half))
            units.append(BasicBlock(channels, half, builder, unit.stride, downsample))
            channels = half
        for m in nn.ModuleList(units).modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        return units, None


def kinetics_weights(name: str):
    """The registry's weights supplier for ``name``: torchvision's Kinetics-400 state dict, downloaded once
    into torch's hub cache; a clear error offline."""

    def load():
        weights = _WEIGHTS[name]
        try:
            return weights.get_state_dict(progress=False)
        except Exception as err:
            raise BackboneError(
                f"cannot download the Kinetics-400 weights of {name} from {weights.url} ({type(err).__name__}). "
                f"Offline, put the file into torch's hub cache ($TORCH_HOME/hub/checkpoints/) or give "
                f"--weights path/to/{name}.pth") from err

    return load
