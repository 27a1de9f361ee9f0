"""Redraws the table of ../vesselmnist3d.md from the trial JSONs beside this file (python table.py)."""

import json
from collections import defaultdict
from pathlib import Path

import numpy as np

groups = defaultdict(list)
for path in sorted((Path(__file__).parent / "trials").glob("*.json")):
    r = json.loads(path.read_text())
    groups[(r["backbone"], r["strategy"], r["cut"])].append(r)
print("| backbone | strategy | cut | seeds | test AUROC | test AUPRC | val AUROC | params (M) | MACs (G) |")
print("|---|---|---|---|---|---|---|---|---|")
for (backbone, strategy, cut), runs in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1] == "ftl", g[0][2])):
    def stat(split, metric):
        v = np.array([r[split][metric] for r in runs])
        return f"{v.mean():.3f} ± {v.std():.3f}"
    print(f"| {backbone} | {strategy} | {cut} | {len(runs)} | {stat('test', 'auroc')} | {stat('test', 'auprc')} | "
          f"{stat('val', 'auroc')} | {runs[0]['params'] / 1e6:.2f} | {runs[0]['macs'] / 1e9:.3f} |")
