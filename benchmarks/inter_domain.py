"""Inter-domain transfer (the paper's Fig. 11 on data at hand): FTL and TTL at every block boundary from
three sources — ImageNet, ImageNet further pretrained on a medical source, random init — on one target.

Target: tuberculosis vs normal chest X-rays (../shared/data/cxr_lung_seg, label = trailing _0/_1 of each
image stem; the manifest is built in a temporary directory). Medical source: ``ttl pretrain`` on
../shared/data/chest_xray_pneumonia. Resumable (one JSON per trial in OUT/<source>/trials). Example:
    OMP_NUM_THREADS=1 python benchmarks/inter_domain.py --out runs/inter_domain [--sources imagenet,medical,random]
    python benchmarks/inter_domain.py --out docs/results/inter_domain --report-only   # redraw the table
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import tempfile
from dataclasses import asdict, replace
from pathlib import Path

from benchmarks.records import pm
from truncatedtl.backbones import load_backbone
from truncatedtl.data import load_data
from truncatedtl.engine import Prepared, RunConfig
from truncatedtl.pretrain import PretrainConfig, pretrain, save_source
from truncatedtl.search import Trial, TrialStore, run_trials

SOURCES = ("imagenet", "medical", "random")


def tb_manifest(images: Path, directory: Path) -> Path:
    """``path,label`` for every image of ``images``; label = the stem's trailing _0 (normal) / _1 (tb)."""
    manifest = directory / "tb.csv"
    with open(manifest, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "label"])
        for image in sorted(images.glob("*.png")):
            writer.writerow([str(image.resolve()), {"0": "normal", "1": "tb"}[image.stem.rsplit("_", 1)[1]]])
    return manifest


def run(args: argparse.Namespace) -> None:
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    source_dir = args.out / "source"
    if not (source_dir / "source.json").is_file():
        log(f"pretraining {args.backbone} on {args.source}")
        config = PretrainConfig(RunConfig(data=args.source, backbone=args.backbone, strategy="ftl",
                                          weights="pretrained", image_size=args.image_size,
                                          max_epochs=args.source_epochs, lr=args.lr, batch_size=args.batch_size,
                                          limit=args.source_limit))
        save_source(source_dir, *pretrain(config))
    weights = {"imagenet": "pretrained", "medical": str(source_dir), "random": "none"}
    with tempfile.TemporaryDirectory() as tmp:
        manifest = tb_manifest(args.target / "images", Path(tmp))
        data = load_data(manifest, seed=0)
        for source in args.sources.split(","):
            base = RunConfig(data=str(manifest), backbone=args.backbone, strategy="ttl", image_size=args.image_size,
                             max_epochs=args.max_epochs, weights=weights[source], lr=args.lr,
                             batch_size=args.batch_size)
            identity = {**asdict(replace(base, data=str(args.target))), "seeds": args.seeds}
            store = TrialStore(args.out / source, identity)
            backbone = load_backbone(args.backbone, weights[source])
            trials = [Trial("ftl", backbone.last_cut, s) for s in range(args.seeds)]
            trials += [Trial("ttl", k, s) for k in backbone.block_ends for s in range(args.seeds)]
            log(f"source {source}: {len(trials)} trials")
            run_trials(trials, base, store, prepared=Prepared(data, backbone), progress=log)


def _groups(out: Path, source: str) -> dict[tuple[str, int], list[dict]]:
    groups: dict[tuple[str, int], list[dict]] = {}
    for path in sorted((out / source / "trials").glob("*.json")):
        record = json.loads(path.read_text())
        groups.setdefault((record["strategy"], record["cut"]), []).append(record)
    return dict(sorted(groups.items(), key=lambda kv: (kv[0][0] != "ftl", kv[0][1])))


def _mean(group: list[dict], split: str, metric: str) -> float:
    return statistics.mean(g[split][metric] for g in group)


def table(out: Path) -> str:
    """The Markdown table of test AUROC/AUPRC (mean ± population std over seeds) drawn from the records."""
    lines = ["| source | strategy | cut k | test AUROC | test AUPRC | val AUPRC | params (M) | seeds | run |",
             "|---|---|---|---|---|---|---|---|---|"]
    for source in SOURCES:
        for (strategy, cut), group in _groups(out, source).items():
            lines.append(f"| {source} | {strategy} | {cut} | {pm([g['test']['auroc'] for g in group])} | "
                         f"{pm([g['test']['auprc'] for g in group])} | {pm([g['val']['auprc'] for g in group])} | "
                         f"{group[0]['params'] / 1e6:.3f} | {len(group)} | *CPU-small* |")
    return "\n".join(lines)


def selected(out: Path) -> str:
    """Per source, the TTL cut selected on validation (highest mean val AUPRC) against FTL."""
    lines = ["| source | TTL cut selected on validation | its val AUPRC | its test AUROC | FTL val AUPRC | "
             "FTL test AUROC | run |", "|---|---|---|---|---|---|---|"]
    for source in SOURCES:
        groups = _groups(out, source)
        ttl = {cut: g for (strategy, cut), g in groups.items() if strategy == "ttl"}
        best = max(ttl, key=lambda k: (_mean(ttl[k], "val", "auprc"), -k))
        ftl = next(g for (strategy, _), g in groups.items() if strategy == "ftl")
        lines.append(f"| {source} | k = {best} | {pm([g['val']['auprc'] for g in ttl[best]])} | "
                     f"{pm([g['test']['auroc'] for g in ttl[best]])} | {pm([g['val']['auprc'] for g in ftl])} | "
                     f"{pm([g['test']['auroc'] for g in ftl])} | *CPU-small* |")
    return "\n".join(lines)


def draw_page(results: Path) -> dict[str, str]:
    """The drawn blocks of docs/results/inter_domain.md: the 2D table, the cuts selected on validation, and the
    3D summary drawn from the VesselMNIST3D records."""
    from benchmarks.vesselmnist3d import sources_table

    out = results / "inter_domain"
    return {"table-2d": table(out), "selected-2d": selected(out), "table-3d": sources_table(results)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=Path, default=Path("../shared/data/cxr_lung_seg"))
    parser.add_argument("--source", default="../shared/data/chest_xray_pneumonia")
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--max-epochs", type=int, default=6)
    parser.add_argument("--source-epochs", type=int, default=6)
    parser.add_argument("--source-limit", type=int, default=None)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--sources", default=",".join(SOURCES), help="Which sources to train from (one process "
                                                                      "per source runs them side by side).")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--report-only", action="store_true", help="Only redraw the table from OUT's records.")
    args = parser.parse_args()
    if not args.report_only:
        run(args)
    print(table(args.out))


if __name__ == "__main__":
    main()
