"""Search cost: every search method against the exhaustive yardstick, on several real datasets (SPEC §10).

Per dataset, the yardstick trains every cut point and FTL with every repeat and scores validation *and* test
(``--test-every-cut``'s curve). Every method then runs its own choice on a session whose trainings are read
from the yardstick (CPU training is deterministic: the same config and seed train the same model), so its
cost is counted, not paid again: trainings = the distinct trials it asks for plus the final ones, wall time =
its own computation (SVCCA, features, estimators; measured) + the recorded seconds of those trainings.

Resumable: trials and method results are saved as they finish; killed, the same command continues. The
table is drawn from the saved JSON only (``--redraw``).

    OMP_NUM_THREADS=1 python benchmarks/search_cost.py --data-root ../shared/data
"""

from __future__ import annotations

import argparse
import csv
import tempfile
from dataclasses import asdict
from pathlib import Path

from truncatedtl.backbones import load_backbone
from truncatedtl.engine import RunConfig
from truncatedtl.search import Trial, TrialStore, run_trials

ROOT = Path(__file__).resolve().parent.parent


def tb_manifest(images: Path) -> Path:
    """A CSV manifest of cxr_lung_seg's tuberculosis side labels (trailing ``_0``/``_1`` of each file stem),
    written to a fixed place in the temporary directory so that a resumed run sees the same data path."""
    path = Path(tempfile.gettempdir()) / "ttl-search-cost" / "cxr_lung_seg_tb.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for image in sorted(images.glob("*.png")):
        flag = image.stem.rsplit("_", 1)[-1]
        if flag not in ("0", "1"):
            raise ValueError(f"{image}: file stem does not end in _0 or _1 (the TB label)")
        rows.append({"path": str(image.resolve()), "label": "tb" if flag == "1" else "normal"})
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["path", "label"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def datasets(root: Path) -> dict[str, str]:
    """Name → the ``--data`` value of each real dataset."""
    return {"pneumoniamnist": str(root / "pneumoniamnist" / "pneumoniamnist.npz"),
            "chest_xray_pneumonia": str(root / "chest_xray_pneumonia"),
            "cxr_lung_seg_tb": str(tb_manifest(root / "cxr_lung_seg" / "images"))}


def yardstick(base: RunConfig, repeats: int, out: Path, progress=print) -> TrialStore:
    """Every cut point of the TTL strategy and FTL, ``repeats`` seeds each, validation and test scored."""
    backbone = load_backbone(base.backbone, "none")
    identity = {**{k: v for k, v in asdict(base).items() if k not in ("seed", "strategy", "cut")},
                "yardstick": "every cut point, test scored", "repeats": repeats}
    store = TrialStore(out, identity)
    trials = [Trial("ftl", backbone.last_cut, s) for s in range(repeats)]
    trials += [Trial("ttl", p.index, s) for p in backbone.cut_points for s in range(repeats)]
    run_trials(trials, base, store, progress=progress, evaluate_test=True)
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--datasets", default="pneumoniamnist,chest_xray_pneumonia,cxr_lung_seg_tb")
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--weights", default="pretrained")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--max-epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "search_cost")
    args = parser.parse_args()
    paths = datasets(args.data_root)
    for name in args.datasets.split(","):
        base = RunConfig(data=paths[name], backbone=args.backbone, strategy="ttl", image_size=args.image_size,
                         max_epochs=args.max_epochs, lr=args.lr, batch_size=args.batch_size, limit=args.limit,
                         weights=args.weights, device="cpu")
        yardstick(base, args.repeats, args.out / name / "yardstick",
                  progress=lambda m, name=name: print(f"[{name}] {m}", flush=True))


if __name__ == "__main__":
    main()
