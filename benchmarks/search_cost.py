"""Search cost: two-stage vs SVCCA-guided vs exhaustive on one dataset and backbone (SPEC §10).

Each method runs as its own search (its own directory, its own FTL), so trainings and wall time are what
that method costs alone. Exhaustive trains every cut point and is the yardstick: each method's chosen cut is
also looked up in its table (the trials are deterministic on CPU, so the same cut and seed train the same
model in every directory). Resumable: killed, the same command continues; wall time is kept per method.

    OMP_NUM_THREADS=1 python benchmarks/search_cost.py --data ../shared/data/chest_xray_pneumonia \
        --image-size 64 --limit 300 --max-epochs 3 --lr 1e-3 --batch-size 32 --repeats 2
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
import time
from pathlib import Path

import torch

from truncatedtl.engine import RunConfig
from truncatedtl.files import write_json, write_text
from truncatedtl.search import METHODS, SearchSettings, search

ROOT = Path(__file__).resolve().parent.parent


def run_method(method: str, base: RunConfig, args: argparse.Namespace, out: Path) -> dict:
    """The method's report and its wall time (measured once; a resumed run keeps the first complete one)."""
    timings_path = out / "timings.json"
    timings = json.loads(timings_path.read_text()) if timings_path.is_file() else {}
    settings = SearchSettings(method=method, repeats=args.repeats, radius=args.radius,
                              overlap_threshold=args.overlap_threshold)
    start = time.perf_counter()
    report = search(base, settings, out / method, progress=lambda m: print(f"[{method}] {m}", flush=True))
    if method not in timings or timings[method]["trials"] != report["trials"]:
        timings[method] = {"wall_s": round(time.perf_counter() - start, 1), "trials": report["trials"]}
        write_json(timings_path, timings)
    return {**report, "wall_s": timings[method]["wall_s"]}


def _pm(stat: dict) -> str:
    return f"{stat['mean']:.4f} ± {stat['std']:.4f}"


def markdown(reports: dict[str, dict], args: argparse.Namespace, command: str) -> str:
    yardstick = {r["cut"]: r for r in reports["exhaustive"]["by_cut"]} if "exhaustive" in reports else {}
    ranked = sorted(yardstick, key=lambda c: (-yardstick[c]["val_auprc"]["mean"], c))
    any_report = next(iter(reports.values()))
    setup = (
        f"{any_report['backbone']} (weights {any_report['settings']['weights']}) on `{args.data}`, searching "
        f"`{any_report['strategy']}` cut points. Image {args.image_size}², at most {args.limit} samples per split "
        f"(stratified), at most {args.max_epochs} epochs, Adam LR {args.lr:g}, batch {args.batch_size}, "
        f"{args.repeats} repeat(s) (seeds 0..{args.repeats - 1}), "
        f"two-stage radius {args.radius}, SVCCA overlap threshold {args.overlap_threshold}. CPU only "
        f"({platform.processor() or platform.machine()}, {torch.get_num_threads()} torch thread(s), a machine "
        "shared with other jobs, so wall times are indicative). Every search also trains FTL with the same "
        "repeats; its trainings are counted.")
    header = ("| method | trainings | wall time (min) | training time (min) | chosen cut | chosen val AUPRC "
              "| chosen test AUPRC | FTL val AUPRC | FTL test AUPRC | params vs FTL "
              "| rank of chosen cut in exhaustive (val AUPRC) |")
    lines = ["# Search cost: two-stage vs SVCCA-guided vs exhaustive", "", setup, "", "```", command, "```", "",
             header, "|---|---|---|---|---|---|---|---|---|---|---|"]
    for method, r in reports.items():
        rank = f"{ranked.index(r['chosen_cut']) + 1} of {len(ranked)}" if r["chosen_cut"] in ranked else "–"
        lines.append(
            f"| {method} | {r['trials']} | {r['wall_s'] / 60:.1f} | {r['train_seconds'] / 60:.1f} | {r['chosen_cut']} | "
            f"{_pm(r['chosen']['val']['auprc'])} | {_pm(r['chosen']['test']['auprc'])} | {_pm(r['ftl']['val']['auprc'])} "
            f"| {_pm(r['ftl']['test']['auprc'])} | {r['ratios']['params']:.3f}× | {rank} |")
    if yardstick:
        best = ranked[0]
        full = reports["exhaustive"]
        lines += [""] + [
            f"- {method}: {r['trials']} trainings ({r['trials'] / full['trials']:.0%} of exhaustive), "
            f"{r['wall_s'] / full['wall_s']:.0%} of its wall time; chosen cut {r['chosen_cut']} has validation "
            f"AUPRC {r['chosen']['val']['auprc']['mean'] - yardstick[best]['val_auprc']['mean']:+.4f} against the "
            f"best cut ({best})." for method, r in reports.items() if method != "exhaustive"]
        lines += ["", (f"Best cut of the exhaustive search by validation AUPRC: {best} "
                       f"({_pm(yardstick[best]['val_auprc'])}). Validation AUPRC per cut (exhaustive):"), "",
                  "| cut | " + " | ".join(str(c) for c in sorted(yardstick)) + " |",
                  "|---|" + "---|" * len(yardstick),
                  "| val AUPRC | " + " | ".join(f"{yardstick[c]['val_auprc']['mean']:.3f}" for c in sorted(yardstick))
                  + " |"]
    if "svcca" in reports:
        per_cut = reports["svcca"]["svcca"]["per_cut"]
        lines += ["", ("SVCCA-guided: overlap of pretrained-vs-finetuned with random coefficients per cut "
                       f"(threshold {args.overlap_threshold}):"), "",
                  "| cut | " + " | ".join(str(p["cut"]) for p in per_cut) + " |", "|---|" + "---|" * len(per_cut),
                  "| overlap | " + " | ".join(f"{p['overlap']:.2f}" for p in per_cut) + " |",
                  "| mean coef. finetuned | " + " | ".join(f"{p['finetuned_mean']:.2f}" for p in per_cut) + " |",
                  "| mean coef. random | " + " | ".join(f"{p['random_mean']:.2f}" for p in per_cut) + " |"]
    lines += ["", "Reasons given by each search:", ""]
    lines += [f"- **{method}**: {r['reason']}." for method, r in reports.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "chest_xray_pneumonia"))
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--weights", default="pretrained")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--max-epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--radius", type=int, default=2)
    parser.add_argument("--overlap-threshold", type=float, default=0.5)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "search_cost")
    parser.add_argument("--markdown", type=Path, default=ROOT / "docs" / "results" / "search_cost.md")
    args = parser.parse_args()
    base = RunConfig(data=args.data, backbone=args.backbone, strategy="ttl", image_size=args.image_size,
                     max_epochs=args.max_epochs, lr=args.lr, batch_size=args.batch_size, limit=args.limit,
                     weights=args.weights, device="cpu")
    reports = {m: run_method(m, base, args, args.out) for m in args.methods.split(",")}
    command = "python " + " ".join(shlex.quote(a) for a in [str(Path(sys.argv[0])), *sys.argv[1:]])
    args.markdown.parent.mkdir(parents=True, exist_ok=True)
    write_text(args.markdown, markdown(reports, args, command))
    print(args.markdown.read_text())


if __name__ == "__main__":
    main()
