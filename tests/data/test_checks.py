"""What the data checks refuse, with the message fragments a user sees, and the options that relax them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import write_png
from truncatedtl.data import DataError, load_data
from truncatedtl.tasks.classification.metrics import scores


def folder(root: Path, layout: dict[str, tuple[str, ...]], n: int = 4) -> Path:
    for split, classes in layout.items():
        for c in classes:
            for i in range(n):
                write_png(root / split / c / f"{i}.png", 30 * i)
    return root


@pytest.mark.parametrize("name", ["valid", "validation", "dev", "Val"])
def test_val_folder_aliases_are_the_validation_split(tmp_path: Path, name: str) -> None:
    data = load_data(folder(tmp_path, {"train": ("a", "b"), name: ("a", "b"), "test": ("a", "b")}))
    assert [len(s) for s in data.splits().values()] == [8, 8, 8]
    assert not any("carved" in note for note in data.notes)


def test_unexpected_folder_beside_splits_is_named(tmp_path: Path) -> None:
    folder(tmp_path, {"train": ("a", "b"), "test": ("a", "b"), "extra": ("a",)})
    with pytest.raises(DataError, match=r"and also extra/, which is not a split"):
        load_data(tmp_path)


def test_two_validation_folders_are_refused(tmp_path: Path) -> None:
    folder(tmp_path, {"train": ("a", "b"), "val": ("a", "b"), "dev": ("a", "b"), "test": ("a", "b")})
    with pytest.raises(DataError, match=r"two val folders, dev/ and val/"):
        load_data(tmp_path)


@pytest.mark.parametrize(("limit", "fragment"), [(-5, r"--limit must be at least 1.*got -5"),
                                                 (0, r"--limit must be at least 1.*got 0")])
def test_bad_limit_is_refused(limit: int, fragment: str) -> None:
    with pytest.raises(DataError, match=fragment):
        load_data("synthetic", limit=limit)


def test_empty_split_is_named(tmp_path: Path) -> None:
    for i in range(4):
        write_png(tmp_path / f"{i}.png", 10 * i)
    rows = [f"{i}.png,{'ab'[i % 2]},train" for i in range(4)]
    (tmp_path / "m.csv").write_text("path,label,split\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError, match=r"split 'val' of .*m.csv is empty"):
        load_data(tmp_path / "m.csv")


def three_class_npz(path: Path, val_labels: list[int]) -> Path:
    labels = {"train": [0, 1, 2] * 4, "val": val_labels, "test": [0, 1, 2] * 2}
    arrays = {}
    for split, values in labels.items():
        arrays[f"{split}_images"] = np.zeros((len(values), 8, 8), np.uint8) + np.arange(len(values))[:, None, None].astype(np.uint8)
        arrays[f"{split}_labels"] = np.asarray(values).reshape(-1, 1)
    np.savez(path, **arrays)
    return path


def test_class_absent_from_val_is_refused_naming_split_and_class(tmp_path: Path) -> None:
    npz = three_class_npz(tmp_path / "x.npz", [0, 1, 0, 1])
    with pytest.raises(DataError, match=r"split 'val' of .*x.npz has no sample of class 2: .*--allow-missing-classes"):
        load_data(npz)
    data = load_data(npz, allow_missing_classes=True)
    assert "val: class 2 absent, left out of the averages (--allow-missing-classes)" in data.notes


def test_missing_class_is_left_out_of_the_average() -> None:
    labels = torch.tensor([0, 1, 0, 1])
    perfect = torch.tensor([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.7, 0.2, 0.1], [0.2, 0.7, 0.1]])
    assert scores(perfect, labels, "multiclass") == {"auroc": 1.0, "auprc": 1.0}


def test_npz_labels_out_of_range_or_negative_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"val_labels\[2\] = 3 is not a class of train_labels \(0..2\)"):
        load_data(three_class_npz(tmp_path / "a.npz", [0, 1, 3, 2]))
    with pytest.raises(DataError, match=r"val_labels\[1\] = -1 is negative"):
        load_data(three_class_npz(tmp_path / "b.npz", [0, -1, 1, 2]))


def manifest(root: Path, rows: list[str]) -> Path:
    for name in {r.split(",")[0] for r in rows}:
        write_png(root / name, len(name) * 7)
    (root / "m.csv").write_text("path,label,split\n" + "\n".join(rows) + "\n")
    return root / "m.csv"


def test_label_differing_only_in_case_is_refused_naming_rows(tmp_path: Path) -> None:
    rows = [f"{i}.png,{'NORMAL' if i % 2 else 'PNEUMONIA'},{('train', 'val', 'test')[i % 3]}" for i in range(12)]
    rows.append("x.png,Pneumonia,test")
    with pytest.raises(DataError, match=r"row 14: label 'Pneumonia' differs from 'PNEUMONIA' \(row 2\) only in case"):
        load_data(manifest(tmp_path, rows))


def test_evaluation_label_unknown_to_train_is_refused_naming_the_row(tmp_path: Path) -> None:
    rows = [f"{i}.png,{'ab'[i % 2]},{('train', 'val', 'test')[i % 3]}" for i in range(12)]
    rows.append("x.png,c,val")
    with pytest.raises(DataError, match=r"row 14: val label 'c' does not occur in train \(train classes: a, b\)"):
        load_data(manifest(tmp_path, rows))


def test_duplicate_paths_are_refused_with_rows_or_deduped(tmp_path: Path) -> None:
    rows = [f"{i}.png,{'ab'[i % 2]},{('train', 'val', 'test')[(i // 2) % 3]}" for i in range(12)]
    rows += ["3.png,b,test", "5.png,b,train"]
    csv = manifest(tmp_path, rows)
    with pytest.raises(DataError, match=r"2 image\(s\) listed more than once \(3.png on rows 5, 14; 5.png on rows 7, "
                                        r"15\).*--dedupe"):
        load_data(csv)
    data = load_data(csv, dedupe=True)
    assert sum(len(s) for s in data.splits().values()) == 12
    assert any("2 repeated row(s) dropped (--dedupe)" in note for note in data.notes)
