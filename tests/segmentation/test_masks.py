"""Image + mask pairs: folders and CSV manifests, mask value mapping, splits, joint augmentation, and bad
input named in the error."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from truncatedtl.data import DataError
from truncatedtl.data.masks import (
    MaskDataset,
    is_mask_source,
    load_masks,
    parse_mask_values,
    preprocess_pairs,
    read_mask,
)


def _pair(root: Path, stem: str, mask: np.ndarray, suffix: str = ".png") -> None:
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    Image.fromarray((mask > 0).astype(np.uint8) * 200 + 20).save(root / "images" / f"{stem}.png")
    if suffix == ".npy":
        np.save(root / "masks" / f"{stem}.npy", mask)
    else:
        Image.fromarray(mask.astype(np.uint8)).save(root / "masks" / f"{stem}{suffix}")


def _blob(i: int, value: int = 255, size: int = 20) -> np.ndarray:
    mask = np.zeros((size, size), dtype=np.uint8)
    mask[2 + i % 5: 10 + i % 5, 4:14] = value
    return mask


@pytest.fixture
def pair_folder(tmp_path: Path) -> Path:
    root = tmp_path / "pairs"
    for i in range(25):
        _pair(root, f"case{i:02d}", _blob(i), ".npy" if i % 5 == 0 else ".png")
    return root


def test_folder_pairs_split_64_16_20_seeded_and_binary_0_255_read_as_0_1(pair_folder):
    data = load_masks(pair_folder, seed=3)
    assert [len(s) for s in data.splits().values()] == [16, 4, 5]
    assert data.out_channels == 1 and data.classes == ["background", "foreground"]
    assert load_masks(pair_folder, seed=3).test.images == data.test.images
    assert load_masks(pair_folder, seed=4).test.images != data.test.images
    assert all(m.stem == i.stem for i, m in zip(data.train.images, data.train.masks))
    images, masks = preprocess_pairs(data.train, 10, None)
    assert images.shape == (16, 1, 10, 10) and masks.dtype == torch.uint8
    assert set(masks.unique().tolist()) == {0, 1}
    bright = images[:, 0] > 110  # the image is bright exactly where its mask is foreground
    assert (bright == masks.bool()).float().mean() > 0.95


def test_mask_values_map_multiclass_and_reject_unknown_values(tmp_path):
    mask = np.zeros((6, 6), dtype=np.uint8)
    mask[:2], mask[2:4] = 85, 170
    path = tmp_path / "m.png"
    Image.fromarray(mask).save(path)
    assert parse_mask_values("0,85,170") == (0, 85, 170)
    classes = read_mask(path, (0, 85, 170))
    assert classes[:2].tolist() == [[1] * 6] * 2 and classes[2:4].max() == 2 and classes[4:].max() == 0
    with pytest.raises(DataError, match=r"m\.png holds values \[170\] not in \[0, 85\]"):
        read_mask(path, (0, 85))
    with pytest.raises(DataError, match=r"m\.png holds values \[85, 170\].*give --mask-values"):
        read_mask(path, None)
    for bad in ("0", "0,0", "a,b"):
        with pytest.raises(ValueError, match="--mask-values"):
            parse_mask_values(bad)


def test_csv_manifest_with_splits(tmp_path, pair_folder):
    rows = ["image,mask,split"] + [f"pairs/images/case{i:02d}.png,pairs/masks/case{i:02d}."
                                   f"{'npy' if i % 5 == 0 else 'png'},{('train', 'val', 'test')[i % 3]}"
                                   for i in range(25)]
    manifest = tmp_path / "pairs.csv"
    manifest.write_text("\n".join(rows) + "\n")
    data = load_masks(manifest, mask_values=(0, 255))
    assert [len(s) for s in data.splits().values()] == [9, 8, 8]
    assert data.classes == ["0", "255"] and data.out_channels == 1
    rows[4] = "pairs/images/case03.png,pairs/masks/nothere.png,train"
    manifest.write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError, match=r"pairs\.csv row 5: mask 'pairs/masks/nothere\.png' does not exist"):
        load_masks(manifest)


def test_missing_mask_and_size_mismatch_name_the_files(pair_folder):
    (pair_folder / "masks" / "case07.png").unlink()
    with pytest.raises(DataError, match=r"image .*case07\.png has no mask in .*masks"):
        load_masks(pair_folder)
    Image.fromarray(np.zeros((8, 8), dtype=np.uint8)).save(pair_folder / "masks" / "case07.png")
    data = load_masks(pair_folder)
    with pytest.raises(DataError, match=r"mask .*case07\.png is 8x8 but image .*case07\.png is 20x20"):
        for split in data.splits().values():
            preprocess_pairs(split, 10, None)


def test_joint_augmentation_moves_image_and_mask_together():
    data = load_masks("synthetic-seg", seed=0)
    images, masks = preprocess_pairs(data.train.subset(np.arange(8)), 32, None)
    dataset = MaskDataset(images, masks, (0.5,), (0.25,), train=True, in_chans=1)
    torch.manual_seed(0)
    for i in range(8):
        x, mask = dataset[i]
        assert mask.dtype == torch.long and set(mask.unique().tolist()) <= {0, 1}
        assert x[0][mask == 1].mean() > x[0][mask == 0].mean() + 1.0  # blobs stay under their mask
    assert not torch.equal(torch.stack([dataset[i][1] for i in range(8)]), masks.long())


def test_segmentation_sources_are_recognised(tmp_path, pair_folder, image_folder):
    manifest = tmp_path / "m.csv"
    manifest.write_text("image,mask\n")
    labels = tmp_path / "l.csv"
    labels.write_text("path,label\n")
    assert is_mask_source("synthetic-seg") and is_mask_source(pair_folder) and is_mask_source(manifest)
    assert not any(map(is_mask_source, ("synthetic", image_folder, labels, tmp_path / "none")))
