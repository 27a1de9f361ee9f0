"""TTL at every block boundary and FTL, several seeds: test AUROC/AUPRC mean ± population std and params.

Resumable (one JSON per trial in OUT/trials). ``--records DIR`` then keeps the trial records (no checkpoints,
paths relative to the data root) in DIR, from which ``python -m benchmarks redraw`` draws
docs/results/ttl_block_boundaries.md. Example:
    python -m benchmarks.block_boundaries --data ../shared/data/pneumoniamnist/pneumoniamnist.npz \
        --image-size 64 --limit 500 --max-epochs 4 --out runs/blocks-pneumoniamnist
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

from benchmarks.records import keep, pm
from truncatedtl.backbones import load_backbone
from truncatedtl.engine import RunConfig, prepare
from truncatedtl.search import Trial, TrialStore, run_trials

FOLDER = "ttl_block_boundaries"
# The page's datasets, in page order: records folder → heading.
DATASETS = {"pneumoniamnist": "PneumoniaMNIST", "chest_xray_pneumonia": "chest_xray_pneumonia"}


def keep_records(out: Path, records: Path) -> None:
    """Copy the store identity and every trial JSON of ``out`` to ``records`` (paths made relative)."""
    shutil.rmtree(records, ignore_errors=True)
    keep(records / "store.json", json.loads((out / "store.json").read_text()))
    for path in sorted((out / "trials").glob("*.json")):
        record = json.loads(path.read_text())
        record.pop("checkpoint", None)
        keep(records / "trials" / path.name, record)


def _groups(folder: Path) -> dict[tuple[str, int], list[dict]]:
    groups: dict[tuple[str, int], list[dict]] = {}
    for path in sorted((folder / "trials").glob("*.json")):
        record = json.loads(path.read_text())
        groups.setdefault((record["strategy"], record["cut"]), []).append(record)
    return dict(sorted(groups.items(), key=lambda kv: (kv[0][0] != "ftl", kv[0][1])))


def settings(folder: Path) -> str:
    identity = json.loads((folder / "store.json").read_text())["identity"]
    first = next(iter(_groups(folder).values()))[0]
    return (f"{identity['backbone']} ({identity['weights']} weights), {identity['image_size']}², at most "
            f"{identity['limit']} samples per split, at most {identity['max_epochs']} epochs, Adam LR "
            f"{identity['lr']:g}, batch {identity['batch_size']}, seeds 0..{identity['seeds'] - 1}; samples "
            f"train/val/test = {first['samples']['train']}/{first['samples']['val']}/{first['samples']['test']}; "
            f"data `{identity['data']}`.")


def table(folder: Path) -> str:
    backbone = load_backbone(json.loads((folder / "store.json").read_text())["identity"]["backbone"], "none")
    lines = ["| strategy | cut k | block | test AUROC | test AUPRC | val AUPRC | params (M) | epochs | run |",
             "|---|---|---|---|---|---|---|---|---|"]
    for (strategy, cut), group in _groups(folder).items():
        lines.append(f"| {strategy} | {cut} | {backbone.cut_points[cut].block} | "
                     f"{pm([g['test']['auroc'] for g in group])} | {pm([g['test']['auprc'] for g in group])} | "
                     f"{pm([g['val']['auprc'] for g in group])} | {group[0]['params'] / 1e6:.3f} | "
                     f"{'/'.join(str(g['epochs']) for g in group)} | *CPU-small* |")
    return "\n".join(lines)


def selected(folder: Path) -> str:
    """The TTL cut selected on validation (highest mean val AUPRC) against FTL."""
    groups = _groups(folder)
    ttl = {cut: g for (strategy, cut), g in groups.items() if strategy == "ttl"}
    best = max(ttl, key=lambda k: (np.mean([g["val"]["auprc"] for g in ttl[k]]), -k))
    ftl = next(g for (strategy, _), g in groups.items() if strategy == "ftl")

    def scores(group: list[dict]) -> str:
        return (f"val AUPRC {pm([g['val']['auprc'] for g in group])}, test AUROC "
                f"{pm([g['test']['auroc'] for g in group])}, test AUPRC {pm([g['test']['auprc'] for g in group])}")

    return (f"Selected on validation (highest mean val AUPRC): **TTL k = {best}** ({scores(ttl[best])}, "
            f"{ttl[best][0]['params'] / 1e6:.2f} M parameters); FTL: {scores(ftl)}, "
            f"{ftl[0]['params'] / 1e6:.2f} M parameters.")


def draw_page(results: Path) -> dict[str, str]:
    drawn = {}
    for name in DATASETS:
        folder = results / FOLDER / name
        drawn |= {f"settings-{name}": settings(folder), f"table-{name}": table(folder),
                  f"selected-{name}": selected(folder)}
    return drawn


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
    parser.add_argument("--records", type=Path, help="keep the trial records here (e.g. "
                                                      f"docs/results/{FOLDER}/pneumoniamnist)")
    args = parser.parse_args()

    base = RunConfig(data=args.data, backbone=args.backbone, strategy="ttl", image_size=args.image_size,
                     max_epochs=args.max_epochs, limit=args.limit, weights=args.weights, lr=args.lr,
                     batch_size=args.batch_size)
    store = TrialStore(args.out, {**asdict(base), "seeds": args.seeds})
    backbone = load_backbone(args.backbone)
    trials = [Trial("ftl", backbone.last_cut, s) for s in range(args.seeds)]
    trials += [Trial("ttl", k, s) for k in backbone.block_ends for s in range(args.seeds)]
    run_trials(trials, base, store, prepared=prepare(base),
               progress=lambda line: print(line, file=sys.stderr, flush=True))
    if args.records:
        keep_records(args.out, args.records)
        print(table(args.records))


if __name__ == "__main__":
    main()
