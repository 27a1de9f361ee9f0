"""FTL vs TTL at each encoder block boundary of a U-Net on chest X-ray lung masks (../shared/data/cxr_lung_seg).

Each trial (strategy, cut, seed) trains through ``ttl train``'s engine (the segmentation task, the paper-2d
recipe: Adam, plateau halving, best validation Dice kept, at most ``--epochs``) and writes its trial record to
``--out``; existing records are kept (the run resumes). Cost (params, MACs, CPU latency) is measured once per
model at ``--profile-size``. ``--table`` only redraws the Markdown table from the records.

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python benchmarks/lung_segmentation.py --image-size 64 --epochs 3 ...
    python benchmarks/lung_segmentation.py --out docs/results/lung_segmentation --table
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from truncatedtl.analysis.complexity import profile
from truncatedtl.backbones import load_backbone
from truncatedtl.engine import RunConfig, prepare, train
from truncatedtl.engine.run import model_spec
from truncatedtl.files import write_json
from truncatedtl.tasks import build_network


def _configs(backbone: str, cuts: list[int] | None) -> list[tuple[str, int | None]]:
    encoder = load_backbone(backbone)
    chosen = cuts if cuts is not None else [k for k in encoder.block_ends if k < encoder.last_cut]
    return [("ftl", None)] + [("ttl", k) for k in chosen]


def run(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    base = RunConfig(data=args.data, backbone=args.backbone, strategy="ftl", task="segmentation",
                     mask_values=args.mask_values, image_size=args.image_size, max_epochs=args.epochs, lr=args.lr,
                     batch_size=args.batch_size, limit=args.limit, weights=args.weights)
    prepared = prepare(base)
    args.out.mkdir(parents=True, exist_ok=True)
    for strategy, cut in _configs(args.backbone, args.cuts):
        name = f"{strategy}" if cut is None else f"{strategy}_k{cut}"
        cost_file = args.out / f"cost_{name}.json"
        if not cost_file.exists():
            spec = model_spec(replace(base, strategy=strategy, cut=cut), prepared.backbone, prepared.data.num_classes)
            model = build_network(spec, prepared.backbone)
            cost = profile(model, (3, args.profile_size, args.profile_size), threads=1, warmup=3, repeats=10)
            write_json(cost_file, {"strategy": strategy, "cut": cut, "size": args.profile_size, **cost.as_dict()})
        for seed in range(args.repeats):
            record = args.out / f"trial_{name}_s{seed}.json"
            if record.exists():
                continue
            result = train(replace(base, strategy=strategy, cut=cut, seed=seed), prepared).result
            write_json(record, {**result.to_dict(), "cut": cut})
            print(f"{name} seed {seed}: val dice {result.val['dice']:.4f}, test dice {result.test['dice']:.4f}",
                  flush=True)


def _read(out: Path) -> tuple[list[dict], dict]:
    trials = [json.loads(p.read_text()) for p in sorted(out.glob("trial_*.json"))]
    costs = {(c["strategy"], c["cut"]): c for c in map(json.loads, (p.read_text() for p in out.glob("cost_*.json")))}
    return trials, costs


def _label(key: tuple[str, int | None]) -> str:
    return "FTL (full U-Net)" if key[1] is None else f"TTL k={key[1]}"


def table(out: Path) -> str:
    """Markdown: test Dice / Jaccard mean ± population std over seeds; cost ratios to FTL."""
    trials, costs = _read(out)
    full = costs[("ftl", None)]
    keys = sorted({(t["strategy"], t["cut"]) for t in trials}, key=lambda k: (k[0] != "ftl", k[1] or 0))
    lines = ["| model | seeds | test Dice | test Jaccard | val Dice | params | params ratio | MACs ratio | "
             "CPU latency ratio | run |", "|---|---|---|---|---|---|---|---|---|---|"]
    for key in keys:
        group = [t for t in trials if (t["strategy"], t["cut"]) == key]
        cost = costs[key]
        lines.append(f"| {_label(key)} | {len(group)} | {_stat(group, 'test', 'dice')} | "
                     f"{_stat(group, 'test', 'jaccard')} | {_stat(group, 'val', 'dice')} | {cost['params']:,} | "
                     f"{cost['params'] / full['params']:.3f} | {cost['macs'] / full['macs']:.3f} | "
                     f"{cost['latency_ms_median'] / full['latency_ms_median']:.3f} | *CPU-small* |")
    return "\n".join(lines)


def summary(out: Path) -> str:
    """The full model's cost and the model selected on validation (highest mean val Dice), drawn."""
    trials, costs = _read(out)
    full = costs[("ftl", None)]
    groups: dict[tuple, list[dict]] = {}
    for t in trials:
        groups.setdefault((t["strategy"], t["cut"]), []).append(t)
    best = max(groups, key=lambda k: np.mean([t["val"]["dice"] for t in groups[k]]))
    last = sum(t["best_epoch"] == t["epochs"] for t in trials)
    return (f"FTL at {full['size']}²: {full['macs'] / 1e9:.2f} GMACs, {full['latency_ms_median']:.0f} ms median CPU "
            f"latency (1 thread, loaded machine). Selected on validation (highest mean val Dice): "
            f"**{_label(best)}**, val Dice {_stat(groups[best], 'val', 'dice')}, test Dice "
            f"{_stat(groups[best], 'test', 'dice')}. Best epoch = the last one in {last} of {len(trials)} trials.")


def _stat(trials: list[dict], split: str, metric: str) -> str:
    values = [t[split][metric] for t in trials]
    return f"{np.mean(values):.4f} ± {np.std(values):.4f}"


def draw_page(results: Path) -> dict[str, str]:
    """The drawn blocks of docs/results/lung_segmentation.md, one table and summary per backbone."""
    folders = {"lite0": results / "lung_segmentation" / "unet_efficientnet_lite0",
               "resnet34": results / "lung_segmentation" / "unet_resnet34"}
    return {**{f"table-{k}": table(v) for k, v in folders.items()},
            **{f"summary-{k}": summary(v) for k, v in folders.items()}}


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
