"""A truncated U-Net exports to ONNX with the deploy module and gives PyTorch's logits."""

import pytest
import torch

from truncatedtl import create_model
from truncatedtl.deploy.export import MAX_DIFF, max_abs_diff, to_onnx


@pytest.mark.slow
def test_truncated_unet_onnx_export_matches_pytorch(tmp_path):
    torch.manual_seed(0)
    model = create_model("unet_efficientnet_lite0", 3, num_classes=3).eval()
    path = tmp_path / "unet.onnx"
    to_onnx(model, (3, 32, 32), path, dynamic_batch=False)
    assert max_abs_diff(model, path, (3, 32, 32), 1) <= MAX_DIFF
