"""TTL at every block boundary and FTL, several seeds: test AUROC/AUPRC mean ± std and params.

Resumable (one JSON per trial in OUT/trials). Example:
    python benchmarks/block_boundaries.py --data ../shared/data/pneumoniamnist/pneumoniamnist.npz \
        --image-size 64 --limit 500 --max-epochs 4 --out runs/blocks-pneumoniamnist
"""

from __future__ import annotations

import argparse
import statistics
import sys
from dataclasses import asdict
from pathlib import Path

from truncatedtl.backbones import load_backbone
from truncatedtl.engine import RunConfig, prepare
from truncatedtl.search import Trial, TrialStore, run_trials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--weights", default="pretrained")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--max-epochs", type=int, default=4)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    base = RunConfig(data=args.data, backbone=args.backbone, strategy="ttl", image_size=args.image_size,
                     max_epochs=args.max_epochs, limit=args.limit, weights=args.weights, lr=args.lr,
                     batch_size=args.batch_size)
    store = TrialStore(args.out, {**asdict(base), "seeds": args.seeds})
    backbone = load_backbone(args.backbone)
    trials = [Trial("ftl", backbone.last_cut, s) for s in range(args.seeds)]
    trials += [Trial("ttl", k, s) for k in backbone.block_ends for s in range(args.seeds)]
    records = run_trials(trials, base, store, prepared=prepare(base),
                         progress=lambda line: print(line, file=sys.stderr, flush=True))

    rows = {}
    for r in records:
        rows.setdefault((r.strategy, r.cut), []).append(r)
    command = " ".join(["python", "benchmarks/block_boundaries.py", *sys.argv[1:]])
    print(f"`{command}`\n")
    print(f"{args.backbone} ({args.weights} weights), {args.image_size}², at most {args.limit} samples per split, "
          f"at most {args.max_epochs} epochs, Adam LR {args.lr:g}, batch {args.batch_size}, seeds 0..{args.seeds - 1}; "
          f"samples train/val/test = {records[0].samples}\n")
    print("| strategy | cut k | block | test AUROC | test AUPRC | val AUPRC | params (M) | epochs |")
    print("|---|---|---|---|---|---|---|---|")
    for (strategy, cut), group in sorted(rows.items(), key=lambda kv: (kv[0][0] != "ftl", kv[0][1])):
        def stat(split: str, metric: str, group: list = group) -> str:
            values = [getattr(g, split)[metric] for g in group]
            return f"{statistics.mean(values):.3f} ± {statistics.stdev(values) if len(values) > 1 else 0:.3f}"
        block = backbone.cut_points[cut].block
        epochs = "/".join(str(g.epochs) for g in group)
        print(f"| {strategy} | {cut} | {block} | {stat('test', 'auroc')} | {stat('test', 'auprc')} | "
              f"{stat('val', 'auprc')} | {group[0].params / 1e6:.3f} | {epochs} |")


if __name__ == "__main__":
    main()
