"""Redraws the table of ../vesselmnist3d.md from the trial JSONs beside this file (python table.py).

The ct-ftl-cost trial (one FTL epoch on 64 volumes, a cost measurement) is left out of the table."""

import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np


def cpu_seconds(time_file: Path) -> float:
    """user + sys seconds of one trial, from the bash ``time`` lines the runner keeps."""
    text = time_file.read_text()
    return sum(float(m) * 60 + float(s) for m, s in re.findall(r"(?:user|sys)\s+(\d+)m([\d.]+)s", text))


groups = defaultdict(list)
for path in sorted((Path(__file__).parent / "trials").glob("*.json")):
    if path.name.startswith("ct-ftl-cost"):
        continue
    r = json.loads(path.read_text())
    r["cpu_s"] = cpu_seconds(path.with_suffix(".time"))
    groups[(r["backbone"], r["strategy"], r["cut"])].append(r)
print("| backbone | strategy | cut | seeds | test AUROC | test AUPRC | val AUROC | params (M) | MACs (G) | CPU s/trial |")
print("|---|---|---|---|---|---|---|---|---|---|")
for (backbone, strategy, cut), runs in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1] == "ftl", g[0][2])):
    def stat(split, metric, runs=runs):
        v = np.array([r[split][metric] for r in runs])
        return f"{v.mean():.3f} ± {v.std():.3f}"
    print(f"| {backbone} | {strategy} | {cut} | {len(runs)} | {stat('test', 'auroc')} | {stat('test', 'auprc')} | "
          f"{stat('val', 'auroc')} | {runs[0]['params'] / 1e6:.2f} | {runs[0]['macs'] / 1e9:.3f} | "
          f"{np.mean([r['cpu_s'] for r in runs]):.0f} |")
