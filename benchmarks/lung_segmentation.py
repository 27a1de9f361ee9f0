"""FTL vs TTL at each encoder block boundary of a U-Net on chest X-ray lung masks (../shared/data/cxr_lung_seg).

Each trial (strategy, cut, seed) trains with the minimal segmentation loop and writes one JSON record to
``--out``; existing records are kept (the run resumes). Cost (params, MACs, CPU latency) is measured once per
model at ``--profile-size``. ``--table`` only redraws the Markdown table from the records.

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python benchmarks/lung_segmentation.py --image-size 64 --epochs 3 ...
    python benchmarks/lung_segmentation.py --out docs/results/lung_segmentation --table
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from truncatedtl.analysis.complexity import profile
from truncatedtl.data.masks import MaskDataset, load_masks, parse_mask_values, preprocess_pairs
from truncatedtl.segmentation import build_segmentation, load_encoder, training_plan
from truncatedtl.segmentation.fit import evaluate, fit_segmentation


def _configs(backbone: str, cuts: list[int] | None) -> list[tuple[str, int | None]]:
    encoder = load_encoder(backbone)
    chosen = cuts if cuts is not None else [k for k in encoder.block_ends if k < encoder.last_cut]
    return [("ftl", None)] + [("ttl", k) for k in chosen]


def run(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    data = load_masks(args.data, seed=0, mask_values=parse_mask_values(args.mask_values), limit=args.limit)
    tensors = {s: preprocess_pairs(samples, args.image_size, data.mask_values) for s, samples in data.splits().items()}
    encoder = load_encoder(args.backbone)
    args.out.mkdir(parents=True, exist_ok=True)
    for strategy, cut in _configs(args.backbone, args.cuts):
        name = f"{strategy}" if cut is None else f"{strategy}_k{cut}"
        cost_file = args.out / f"cost_{name}.json"
        if not cost_file.exists():
            model = build_segmentation(strategy, args.backbone, "none", cut, data.out_channels)
            cost = profile(model, (3, args.profile_size, args.profile_size), threads=1, warmup=3, repeats=10)
            cost_file.write_text(json.dumps({"strategy": strategy, "cut": cut, "size": args.profile_size,
                                             **cost.as_dict()}, indent=1))
        for seed in range(args.repeats):
            record = args.out / f"trial_{name}_s{seed}.json"
            if record.exists():
                continue
            torch.manual_seed(seed)
            sets = {s: MaskDataset(*t, encoder.mean, encoder.std, train=s == "train") for s, t in tensors.items()}
            model = build_segmentation(strategy, args.backbone, args.weights, cut, data.out_channels)
            generator = torch.Generator().manual_seed(seed)
            start = time.time()
            best = fit_segmentation(model, training_plan(model, args.lr),
                                    DataLoader(sets["train"], args.batch_size, shuffle=True, generator=generator),
                                    DataLoader(sets["val"], 32), args.epochs)
            test = evaluate(model, DataLoader(sets["test"], 32))
            record.write_text(json.dumps({
                "strategy": strategy, "cut": cut, "seed": seed, "backbone": args.backbone, "weights": args.weights,
                "image_size": args.image_size, "epochs": args.epochs, "lr": args.lr, "batch_size": args.batch_size,
                "pairs": {s: len(v) for s, v in data.splits().items()}, "notes": data.notes,
                "best_epoch": best.pop("epoch"), "val": best, "test": test,
                "train_seconds": round(time.time() - start, 1)}, indent=1))
            print(f"{name} seed {seed}: val dice {best['dice']:.4f}, test dice {test['dice']:.4f}", flush=True)


def table(out: Path) -> str:
    """Markdown: test Dice / Jaccard mean ± population std over seeds; cost ratios to FTL."""
    trials = [json.loads(p.read_text()) for p in sorted(out.glob("trial_*.json"))]
    costs = {(c["strategy"], c["cut"]): c for c in map(json.loads, (p.read_text() for p in out.glob("cost_*.json")))}
    full = costs[("ftl", None)]
    keys = sorted({(t["strategy"], t["cut"]) for t in trials}, key=lambda k: (k[0] != "ftl", k[1] or 0))
    lines = ["| model | seeds | test Dice | test Jaccard | val Dice | params | params ratio | MACs ratio | "
             "CPU latency ratio |", "|---|---|---|---|---|---|---|---|---|"]
    for key in keys:
        group = [t for t in trials if (t["strategy"], t["cut"]) == key]
        cost = costs[key]
        label = "FTL (full U-Net)" if key[1] is None else f"TTL k={key[1]}"
        lines.append(f"| {label} | {len(group)} | {_stat(group, 'test', 'dice')} | "
                     f"{_stat(group, 'test', 'jaccard')} | {_stat(group, 'val', 'dice')} | {cost['params']:,} | {cost['params'] / full['params']:.3f} | "
                     f"{cost['macs'] / full['macs']:.3f} | "
                     f"{cost['latency_ms_median'] / full['latency_ms_median']:.3f} |")
    return "\n".join(lines)


def _stat(trials: list[dict], split: str, metric: str) -> str:
    values = [t[split][metric] for t in trials]
    return f"{np.mean(values):.4f} ± {np.std(values):.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/cxr_lung_seg")
    parser.add_argument("--mask-values", default="0,255")
    parser.add_argument("--backbone", default="unet_efficientnet_lite0")
    parser.add_argument("--weights", default="pretrained")
    parser.add_argument("--cuts", type=lambda s: [int(k) for k in s.split(",")], default=None,
                        help="TTL cut points (default: every block boundary below the full encoder)")
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--profile-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--limit", type=int, default=None, help="at most this many pairs per split")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("docs/results/lung_segmentation/unet_efficientnet_lite0"))
    parser.add_argument("--table", action="store_true", help="only print the table drawn from --out")
    args = parser.parse_args()
    if not args.table:
        run(args)
    print(table(args.out))


if __name__ == "__main__":
    main()
