"""int8 against float: the table of docs/results/int8.md, drawn from the export reports in docs/results/int8/.

Each record is the report ``ttl export --int8`` writes next to the quantized model
(``runs/<run>/model.int8.onnx.report.json``): test AUROC, AUPRC and accuracy of the float and the int8 ONNX
model on the run's test split, and their batch-1 CPU latencies (median of the per-round ratios, with the lowest
and highest round). The records were made from the repository root, ``OMP_NUM_THREADS=1 nice -n 5`` before
each command:

    D=../shared/data/pneumoniamnist/pneumoniamnist.npz
    python -m truncatedtl.cli train --data $D --backbone efficientnet_lite0 --strategy ttl --cut 11 \\
        --image-size 64 --max-epochs 2 --limit 512 --weights pretrained --out runs/lite0_ttl
    python -m truncatedtl.cli train --data $D --backbone resnet50 --strategy ttl --cut 11 --image-size 64 \\
        --max-epochs 2 --limit 512 --weights none --out runs/resnet50_k11
    python -m truncatedtl.cli export runs/lite0_ttl --int8 --calibration $D --calibration-limit 128
    python -m truncatedtl.cli export runs/resnet50_k11 --int8 --calibration $D --calibration-limit 128
    # runs/lite0_ttl/model.int8.onnx.report.json is docs/results/int8/lite0_ttl_k11.report.json,
    # runs/resnet50_k11/model.int8.onnx.report.json is docs/results/int8/resnet50_k11.report.json
"""

from __future__ import annotations

import json
from pathlib import Path

FOLDER = "int8"
# Record (docs/results/int8/<name>.report.json) → the table's label and the model's parameters in millions.
# The reports hold neither: the counts are those of the trained networks (2-class head at 64², k = 11),
# counted when the page was written.
MODELS = {"lite0_ttl_k11": ("Lite0 TTL, k = 11", 0.70),
          "resnet50_k11": ("ResNet-50, k = 11", 6.31)}
METRICS = ("auroc", "auprc", "accuracy")


def signed(value: float) -> str:
    """``+0.0028``, ``−0.0009`` (a minus sign), ``0.0000``."""
    text = f"{abs(value):.4f}"
    return text if text == "0.0000" else ("+" if value > 0 else "−") + text


def row(label: str, params: float, report: dict) -> str:
    test, latency = report["test"], report["latency"]
    scores = [f"{test['float'][m]:.4f} → {test['int8'][m]:.4f} ({signed(test['delta'][m])})" for m in METRICS]
    low, high = latency["ratio_spread"]
    return (f"| {label} | {params:.2f} M | {' | '.join(scores)} | {latency['float_ms']:.2f} / "
            f"{latency['int8_ms']:.2f} ms | **{latency['ratio']:.2f}×** [{low:.2f}, {high:.2f}] |")


def draw_page(results: Path) -> dict[str, str]:
    """The drawn block of docs/results/int8.md: one row per export report in docs/results/int8/."""
    lines = ["| model | params | test AUROC float → int8 (Δ) | test AUPRC float → int8 (Δ) | accuracy float → int8 "
             "(Δ) | latency float / int8 | int8 / float |", "|---|---|---|---|---|---|---|"]
    for name, (label, params) in MODELS.items():
        lines.append(row(label, params, json.loads((results / FOLDER / f"{name}.report.json").read_text())))
    return {"table": "\n".join(lines)}
