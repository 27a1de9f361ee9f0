"""docs/results/gpu_converged.md: the rows of ``benchmarks/gpu.sh`` (one GPU, converged budgets), drawn from
the records it packs (unpacked into ``docs/results/gpu/``); every row is marked *GPU-converged*."""

from __future__ import annotations

import json
from pathlib import Path

FOLDER = "gpu"


def _records(results: Path) -> tuple[dict | None, list[dict]]:
    folder = results / FOLDER
    run = json.loads((folder / "run.json").read_text()) if (folder / "run.json").is_file() else None
    records = [json.loads(p.read_text()) | {"name": p.stem} for p in sorted(folder.glob("*.json"))
               if p.name != "run.json"]
    return run, records


def table(records: list[dict], prefix: str) -> str:
    rows = [r for r in records if r["name"].startswith(prefix)]
    if not rows:
        return "No records yet: `benchmarks/gpu.sh run` has not been run on a GPU for this page."
    lines = ["| backbone | strategy | cut | epochs (best) | train/val/test | test AUROC | test AUPRC | val AUROC | "
             "val AUPRC | params (M) | run |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    order = sorted(rows, key=lambda r: (r["backbone"], r["strategy"] == "ftl", r["cut"]))
    for r in order:
        s = r["samples"]
        lines.append(f"| {r['backbone']} | {r['strategy']} | {r['cut']} | {r['epochs']} ({r['best_epoch']}) | "
                     f"{s['train']}/{s['val']}/{s['test']} | {r['test']['auroc']:.3f} | {r['test']['auprc']:.3f} | "
                     f"{r['val']['auroc']:.3f} | {r['val']['auprc']:.3f} | {r['params'] / 1e6:.2f} | "
                     f"*GPU-converged* |")
    return "\n".join(lines)


def draw_page(results: Path) -> dict[str, str]:
    run, records = _records(results)
    status = ("No GPU run recorded yet (none was lent when this page was written). `bash benchmarks/gpu.sh run` "
              "on one GPU fills it." if run is None else
              f"Recorded run: {run['device']}, torch {run['torch']}, {run['seconds']} s for "
              f"{len(run['trials'])} trials.")
    return {"status": status, "vessel": table(records, "vessel-"), "chest": table(records, "chest-")}
