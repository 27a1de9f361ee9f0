"""Truncated vs full model: parameters, MACs and CPU latency (PyTorch and onnxruntime, batch 1 and 32).

For each backbone the full model (FTL: every unit, neck and a new 2-class head) and the TTL model at every block
boundary (plus the paper's TTL-2 cut k = 11 for resnet50), all at 224², measured in one run and printed as a
Markdown table of absolute values and ratios to the full model. Latency: median over the stated passes after
warm-up, random inputs and weights (cost does not depend on them), intra-op threads fixed for both runtimes;
onnxruntime runs a dynamic-batch ONNX export of the same network, checked against PyTorch. The passes are taken
in interleaved rounds (``truncatedtl.analysis.complexity.time_interleaved``: each round times every model of a
backbone in turn, the order reversed every other round, and keeps each model's median) so that load changes on
a shared machine hit the full and the truncated models alike; each ratio to the full model is the median of the
per-round ratios, with the lowest and highest round.

The 3D section (``--volumes``): resnet18_3d and the inflated efficientnet_lite0@3d at 64³, batch 1 only (a
batch of 32 volumes of 64³ takes seconds per pass on one thread).

Run by hand from the repository root:  python -m benchmarks.latency [--volumes] [--json FILE]
"""

import argparse
import functools
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from truncatedtl.analysis.complexity import (
    count_macs,
    count_params,
    round_ratio,
    split_repeats,
    time_interleaved,
)
from truncatedtl.backbones import load_backbone
from truncatedtl.deploy import OnnxRuntime, TorchRuntime
from truncatedtl.deploy.export import max_abs_diff, to_onnx
from truncatedtl.spec import HeadSpec
from truncatedtl.tasks import build_network, resolve_spec

MODELS = ("resnet50", "densenet121", "efficientnet_b0")
MODELS_3D = ("resnet18_3d", "efficientnet_lite0@3d")
# Cuts measured besides the block boundaries: the paper's TTL-2 (after the 4th unit of block 3).
EXTRA_CUTS = {"resnet50": (11,)}
RUNTIMES = ("torch", "onnx")


def measure_backbone(name: str, args: argparse.Namespace, workdir: Path) -> list[dict]:
    """One row per model of ``name``: the full model first, then TTL at every block boundary and extra cut."""
    backbone = load_backbone(name)
    shape = (backbone.in_chans,) + (args.image_size,) * backbone.spatial_dims
    configs = [("ftl", backbone.last_cut)] + [("ttl", k) for k in sorted({*backbone.block_ends,
                                                                          *EXTRA_CUTS.get(name, ())})]
    rows, runtimes = [], {}
    for strategy, cut in configs:
        model = build_network(resolve_spec(backbone, strategy, cut, HeadSpec(2, args.image_size)), backbone).eval()
        key = f"{strategy}-{cut}"
        onnx_file = workdir / f"{name}-{key}.onnx"
        to_onnx(model, shape, onnx_file, dynamic_batch=True)
        rows.append({"model": name, "strategy": strategy, "cut": cut, "params": count_params(model),
                     "macs": count_macs(model, shape), "onnx_max_abs_diff": max_abs_diff(model, onnx_file, shape, 2)})
        runtimes[f"torch {key}"] = TorchRuntime(model)
        runtimes[f"onnx {key}"] = OnnxRuntime(onnx_file, args.threads)
    rng = np.random.default_rng(0)
    for batch in args.batches:
        x = rng.standard_normal((batch, *shape), dtype=np.float32)
        warmup, rounds, passes = args.passes[batch]
        calls = {key: functools.partial(runtime, x) for key, runtime in runtimes.items()}
        round_ms = time_interleaved(calls, warmup, rounds, passes)
        for row in rows:
            for runtime in RUNTIMES:
                key, full = f"{runtime} {row['strategy']}-{row['cut']}", f"{runtime} {configs[0][0]}-{configs[0][1]}"
                ratio, spread = round_ratio(round_ms[key], round_ms[full])
                row[f"{runtime}_b{batch}_ms"] = float(np.median(round_ms[key]))
                row[f"{runtime}_b{batch}_ratio"] = ratio
                row[f"{runtime}_b{batch}_ratio_spread"] = list(spread)
    return rows


def ratio_cell(value: float, full: float, scale: float, digits: int) -> str:
    return f"{value / scale:.{digits}f} ({value / full:.2f}×)"


def timed_cell(row: dict, key: str, ref: dict) -> str:
    """Latency with its interleaved ratio to the full model and the ratio's lowest and highest round (records
    measured before rounds were kept have no spread: the ratio alone)."""
    ms = row[f"{key}_ms"]
    if f"{key}_ratio_spread" not in row:  # timed round-robin in one process, one pass per round
        return ratio_cell(ms, ref[f"{key}_ms"], 1, 1)
    low, high = row[f"{key}_ratio_spread"]
    return f"{ms:.1f} ({row[f'{key}_ratio']:.2f}× [{low:.2f}, {high:.2f}])"


def table(rows: list[dict], batches: tuple[int, ...]) -> str:
    """Markdown: one line per model, each value with its ratio to the same backbone's full model (latency:
    measured side by side, with its spread over rounds)."""
    latency = [f"{r}_b{b}" for b in batches for r in RUNTIMES]
    head = ["model", "strategy", "k", "params M", "MACs G",
            *(f"{k.split('_')[0]} b{k.split('_')[1][1:]} ms" for k in latency)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    full: dict[str, dict] = {}
    for row in rows:
        ref = full.setdefault(row["model"], row)
        cells = [row["model"], row["strategy"], str(row["cut"]), ratio_cell(row["params"], ref["params"], 1e6, 2),
                 ratio_cell(row["macs"], ref["macs"], 1e9, 2), *(timed_cell(row, k, ref) for k in latency)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def draw_page(results: Path) -> dict[str, str]:
    """The drawn blocks of docs/results/latency.md: the 2D table (latency.json) and the 3D one (latency_3d.json)."""
    flat = json.loads((results / "latency.json").read_text())
    volumes = json.loads((results / "latency_3d.json").read_text())
    return {"table-2d": table(flat["rows"], tuple(flat["settings"].get("batches", (1, 32)))),
            "table-3d": table(volumes["rows"], tuple(volumes["settings"].get("batches", (1,))))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--volumes", action="store_true",
                        help=f"the 3D section: {', '.join(MODELS_3D)} at 64³, batch 1")
    parser.add_argument("--models", nargs="+", help=f"default: {', '.join(MODELS)} (with --volumes: the 3D ones)")
    parser.add_argument("--image-size", type=int, help="input side (default: 224, with --volumes 64)")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads of both runtimes")
    parser.add_argument("--warmup-1", type=int, default=3, help="untimed passes per model at batch 1")
    parser.add_argument("--repeats-1", type=int, default=20, help="timed passes per model at batch 1")
    parser.add_argument("--rounds-1", type=int, default=10, help="rounds the batch-1 passes are split into")
    parser.add_argument("--warmup-32", type=int, default=1, help="untimed passes per model at batch 32")
    parser.add_argument("--repeats-32", type=int, default=5, help="timed passes per model at batch 32")
    parser.add_argument("--rounds-32", type=int, default=5, help="rounds the batch-32 passes are split into")
    parser.add_argument("--batches", type=int, nargs="+", choices=(1, 32), help="batch sizes (default: 1 and 32, "
                        "with --volumes 1)")
    parser.add_argument("--json", type=Path, help="also write the settings and rows as JSON")
    args = parser.parse_args()
    args.models = args.models or list(MODELS_3D if args.volumes else MODELS)
    args.image_size = args.image_size or (64 if args.volumes else 224)
    args.batches = tuple(args.batches or ((1,) if args.volumes else (1, 32)))
    args.passes = {b: (getattr(args, f"warmup_{b}"), *split_repeats(getattr(args, f"repeats_{b}"),
                                                                   getattr(args, f"rounds_{b}"))) for b in (1, 32)}
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.models:
            rows += measure_backbone(name, args, Path(workdir))
            print(f"measured {name} ({time.perf_counter() - start:.0f} s)", flush=True)
    settings = {k: v for k, v in vars(args).items() if k not in ("json", "passes")}
    if args.json:
        args.json.write_text(json.dumps({"settings": settings, "seconds": time.perf_counter() - start,
                                         "rows": rows}, indent=1) + "\n")
    passes = " and ".join(f"{args.passes[b][1]} rounds of {args.passes[b][2]} at batch {b} ({args.passes[b][0]} "
                          f"warm-up)" for b in args.batches)
    print(f"\n{args.image_size}{'³' if args.volumes else '²'} input, 2 classes, {args.threads} thread(s); median of "
          f"{passes}, interleaved; {time.perf_counter() - start:.0f} s in all\n")
    print(table(rows, args.batches))


if __name__ == "__main__":
    main()
