"""``explain``: on a model whose class depends on one quadrant (octant) of the input, the map's mass lies there;
a run beside itself agrees perfectly; segmentation runs are refused unless their score is named."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from truncatedtl.backbones import load_backbone
from truncatedtl.deploy.explain import explain_run, file_stem
from truncatedtl.deploy.saliency import Explainer, agreement, mass_share, top_indices
from truncatedtl.engine import RunConfig, TrainedRun, save_run, train
from truncatedtl.engine.run import model_spec
from truncatedtl.record import TrialRecord
from truncatedtl.surgery import Head, Network
from truncatedtl.tasks import build_network

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)

SIDE = 32


def blob_data(path: Path, spatial_dims: int, side: int, per_split: int = 64) -> Path:
    """A MedMNIST-style ``.npz``: noise everywhere; class 1 adds a bright blob somewhere in the first quadrant
    (octant), the half-open box [0, side/2) on every axis; class 0 has none."""
    rng = np.random.default_rng(spatial_dims)
    grid = np.stack(np.meshgrid(*[np.arange(side)] * spatial_dims, indexing="ij"))
    arrays = {}
    for split in ("train", "val", "test"):
        labels = np.arange(per_split) % 2
        images = rng.uniform(0, 70, (per_split,) + (side,) * spatial_dims)
        for image, label in zip(images, labels):
            if label:
                centre = rng.uniform(side * 0.15, side * 0.35, spatial_dims).reshape(-1, *[1] * spatial_dims)
                image += 185 * np.exp(-((grid - centre) ** 2).sum(0) / (2 * (side / (14 if spatial_dims == 2 else 9)) ** 2))
        arrays[f"{split}_images"] = images.clip(0, 255).astype(np.uint8)
        arrays[f"{split}_labels"] = labels.reshape(-1, 1)
    np.savez(path, **arrays)
    return path


@pytest.fixture(scope="module")
def quadrant_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """resnet18 cut 2 (stride 4: an 8x8 map at 32²) trained on the quadrant data; the data file."""
    folder = tmp_path_factory.mktemp("quadrant")
    data = blob_data(folder / "blobs.npz", 2, SIDE)
    config = RunConfig(data=str(data), backbone="resnet18", strategy="ttl", cut=2, image_size=SIDE, max_epochs=4,
                       batch_size=8, lr=3e-3, weights="none", augment=False, monitor="loss")
    return save_run(train(config), folder / "run"), data


def positives(data: Path, n: int, spatial_dims: int) -> Path:
    """The first ``n`` class-1 test images as an ``.npz`` of their own."""
    with np.load(data) as archive:
        images = archive["test_images"][archive["test_labels"][:, 0] == 1][:n]
    path = data.with_name(f"positives{spatial_dims}.npz")
    np.savez(path, images=images)
    return path


def test_2d_map_mass_lies_in_the_quadrant_that_decides_the_class(quadrant_run, tmp_path: Path, run_cli) -> None:
    run, data = quadrant_run
    inputs = positives(data, 6, 2)
    code, out, err = run_cli("explain", run, inputs, "--target", "1", "--out", tmp_path / "ex")
    assert code == 0, err
    with open(tmp_path / "ex" / "explain.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6 and {r["explained"] for r in rows} == {"1"}
    shares = []
    for i, row in enumerate(rows):
        stem = file_stem(i, row["input"])
        assert row["picture"] == f"{stem}.png" and (tmp_path / "ex" / row["picture"]).stat().st_size > 0
        saliency = np.load(tmp_path / "ex" / f"{stem}.npy")
        assert saliency.shape == (SIDE, SIDE) and saliency.min() >= 0 and saliency.max() == pytest.approx(1)
        shares.append(mass_share(saliency, (slice(0, SIDE // 2), slice(0, SIDE // 2))))
    assert np.mean(shares) > 0.6, shares  # a quarter of the image holds most of the mass (0.25 if uniform)


@pytest.mark.parametrize("method", ["gradcam++", "occlusion"])
def test_other_methods_find_the_quadrant_too(quadrant_run, tmp_path: Path, method: str) -> None:
    run, data = quadrant_run
    explain_run(run, [positives(data, 3, 2)], tmp_path / method, method=method, target="1")
    maps = [np.load(p) for p in sorted((tmp_path / method).glob("*.npy"))]
    assert len(maps) == 3
    assert np.mean([mass_share(m, (slice(0, SIDE // 2),) * 2) for m in maps]) > 0.5


def brightness_network() -> Network:
    """A 3D classifier built by hand whose class-1 score is the amount of bright (above-mean) signal: a box
    blur of the input, ReLU, and a head that adds its channels up. Its evidence lies where the input is bright."""
    body = nn.Sequential(nn.Sequential(nn.Conv3d(3, 4, 3, stride=2, padding=1), nn.ReLU()),
                         nn.Sequential(nn.Conv3d(4, 4, 1), nn.ReLU()))
    head = Head(4, 2, spatial_dims=3)
    with torch.no_grad():
        body[0][0].weight.fill_(1 / 81)
        body[0][0].bias.zero_()
        body[1][0].weight.copy_(torch.eye(4).view(4, 4, 1, 1, 1))
        body[1][0].bias.zero_()
        head.classifier[-1].weight.copy_(torch.tensor([[-1.0] * 4, [1.0] * 4]))
        head.classifier[-1].bias.zero_()
    return Network(body, head).eval()


@pytest.mark.parametrize("method", ["gradcam", "gradcam++", "occlusion"])
def test_3d_map_mass_lies_in_the_octant(tmp_path: Path, method: str) -> None:
    side = 24
    data = blob_data(tmp_path / "blobs3d.npz", 3, side, per_split=6)
    with np.load(data) as archive:
        volumes = archive["test_images"][archive["test_labels"][:, 0] == 1]
    mean, std = torch.tensor(IMAGENET_MEAN).view(3, 1, 1, 1), torch.tensor(IMAGENET_STD).view(3, 1, 1, 1)
    explainer = Explainer(brightness_network(), method, None, lambda out: out.softmax(1), side // 4)
    assert explainer.layer == ("body.1" if method != "occlusion" else None)
    shares = []
    for volume in volumes:
        x = (torch.from_numpy(volume).float().expand(3, -1, -1, -1) / 255 - mean) / std
        saliency = explainer(x, 1)
        assert saliency.shape == (side,) * 3 and saliency.min() >= 0 and saliency.max() > 0
        shares.append(mass_share(saliency, (slice(0, side // 2),) * 3))
    assert min(shares) > 0.6, shares  # an eighth of the volume holds most of the mass (0.125 if uniform)


def test_a_volume_run_writes_a_montage_and_nifti_maps(tmp_path: Path) -> None:
    """The 3D outputs of a (freshly initialised) resnet18_3d run: a montage, the map and the input as NIfTI on
    the model's input grid."""
    import nibabel

    side = 16
    data = blob_data(tmp_path / "blobs3d.npz", 3, side, per_split=4)
    config = RunConfig(data=str(data), backbone="resnet18_3d", strategy="ttl", cut=1, image_size=side,
                       weights="none")
    torch.manual_seed(0)
    spec = model_spec(config, load_backbone("resnet18_3d", "none"), 2)
    state = build_network(spec, load_backbone("resnet18_3d", "none")).state_dict()
    result = TrialRecord(strategy="ttl", backbone="resnet18_3d", cut=1, params=0, macs=0, epochs=0, best_epoch=0,
                         seconds=0.0, val={}, seed=0, image_size=side, weights="none", data=str(data), task="binary",
                         classes=["0", "1"], samples={}, notes=[])
    run = save_run(TrainedRun(config, spec, result, [{"epoch": 0}], state), tmp_path / "run3d")
    explain_run(run, [positives(data, 2, 3)], tmp_path / "ex", versus=run)
    names = sorted(p.name for p in (tmp_path / "ex").iterdir())
    assert names == ["0000_positives3_images_0.input.nii.gz", "0000_positives3_images_0.nii.gz",
                     "0000_positives3_images_0.png", "0000_positives3_images_0.versus.nii.gz",
                     "0001_positives3_images_1.input.nii.gz", "0001_positives3_images_1.nii.gz",
                     "0001_positives3_images_1.png", "0001_positives3_images_1.versus.nii.gz",
                     "explain.csv", "summary.json"]
    saliency = np.asarray(nibabel.load(str(tmp_path / "ex" / names[1])).dataobj)
    image = np.asarray(nibabel.load(str(tmp_path / "ex" / names[0])).dataobj)
    assert saliency.shape == image.shape == (side,) * 3 and 0 <= saliency.min() and saliency.max() <= 1
    with np.load(positives(data, 1, 3)) as archive:
        assert np.abs(image - archive["images"][0] / 255).max() < 1e-5  # the volume as the model reads it


def test_versus_the_same_run_agrees_perfectly(quadrant_run, tmp_path: Path, run_cli) -> None:
    run, data = quadrant_run
    code, out, err = run_cli("explain", run, positives(data, 3, 2), "--versus", run, "--out", tmp_path / "ex")
    assert code == 0, err
    assert "mean Pearson r 1.000, mean top-10 % overlap 1.000" in out
    summary = json.loads((tmp_path / "ex" / "summary.json").read_text())
    assert summary["agreement"]["mean"]["pearson"] == pytest.approx(1, abs=1e-9)
    assert summary["agreement"]["mean"]["top10_overlap"] == 1
    assert [a["pearson"] for a in summary["agreement"]["per_input"]] == pytest.approx([1, 1, 1], abs=1e-9)
    with open(tmp_path / "ex" / "explain.csv", newline="") as handle:
        assert [r["pearson"] for r in csv.DictReader(handle)] == ["1.000"] * 3
    assert len(list((tmp_path / "ex").glob("*.versus.npy"))) == 3


def test_agreement_numbers() -> None:
    rng = np.random.default_rng(0)
    a = rng.random((10, 10))
    assert agreement(a, a) == (pytest.approx(1), 1.0)
    assert agreement(a, 3 * a + 1)[0] == pytest.approx(1)  # invariant to scale and offset
    assert agreement(a, -a)[0] == pytest.approx(-1) and agreement(a, -a)[1] == 0.0
    assert np.isnan(agreement(a, np.zeros_like(a))[0])
    assert len(top_indices(a)) == 10 and set(top_indices(a)) == set(np.argsort(a.ravel())[-10:])
    with pytest.raises(ValueError, match="shapes"):
        agreement(a, a[:5])


def test_segmentation_runs_are_refused_unless_a_score_is_named(tmp_path: Path, run_cli) -> None:
    config = RunConfig(data="synthetic-seg", backbone="unet_resnet18", strategy="ttl", cut=2, task="segmentation",
                       image_size=SIDE, max_epochs=1, limit=16, batch_size=8, weights="none")
    run = save_run(train(config), tmp_path / "seg")
    image = tmp_path / "scan.png"
    from PIL import Image

    Image.fromarray((np.random.default_rng(0).random((40, 40)) * 255).astype(np.uint8)).save(image)
    code, _, err = run_cli("explain", run, image, "--out", tmp_path / "ex")
    assert code == 2 and "is a segmentation run: its output is already a map" in err
    assert "--target mean-foreground" in err and not (tmp_path / "ex").exists()
    code, _, err = run_cli("explain", run, image, "--out", tmp_path / "ex", "--target", "mean-foreground")
    assert code == 0, err
    with open(tmp_path / "ex" / "explain.csv", newline="") as handle:
        row = next(csv.DictReader(handle))
    assert row["predicted"] == "foreground" and 0 <= float(row["probability"]) <= 1
    assert np.load(tmp_path / "ex" / "0000_scan.npy").shape == (SIDE, SIDE)


def test_bad_options_name_the_fix(quadrant_run, tmp_path: Path, run_cli) -> None:
    run, data = quadrant_run
    inputs = positives(data, 1, 2)
    code, _, err = run_cli("explain", run, inputs, "--out", tmp_path / "a", "--layer", "body.9")
    assert code == 2 and "body.0 .. body.2" in err
    code, _, err = run_cli("explain", run, inputs, "--out", tmp_path / "b", "--layer", "head")
    assert code == 2 and "not a 2D feature map" in err
    code, _, err = run_cli("explain", run, inputs, "--out", tmp_path / "c", "--method", "lime")
    assert code == 2 and "gradcam, gradcam++, occlusion" in err
    code, _, err = run_cli("explain", run, inputs, "--out", tmp_path / "d", "--target", "tumour")
    assert code == 2 and "its classes are 0, 1" in err
    code, _, err = run_cli("explain", run, inputs, "--out", tmp_path / "e", "--target", "mean-foreground")
    assert code == 2 and "is a classifier" in err
