"""Data path memory and throughput: peak memory and training throughput over on-disk PNGs with
``--cache none|ram|disk`` (SPEC §5: peak memory must not grow with the dataset).

Writes N grayscale 224² PNGs (two classes, smooth pictures with noise, so they compress like radiographs) in a
temporary folder for each N, then for every N and cache kind runs one child process that builds the
product's own data path (``prepare`` → ``Prepared.loader``: per-item decode, preprocessing, augmentation in
``--num-workers`` DataLoader workers, the cache) and trains a deliberately tiny CNN (one strided conv and a
linear head, a few kFLOPs per image) for ``--epochs`` epochs over the train split, so that the loader is
what is measured. Throughput: train images per second in the last epoch (the caches are filled during the
first). Peak memory: the largest sum over the process tree (trainer + workers) of the proportional set size
(PSS, /proc/PID/smaps_rollup: shared pages such as the RAM cache are counted once), sampled every 50 ms.

    OMP_NUM_THREADS=1 python benchmarks/data_memory.py --counts 2000 20000 --num-workers 2 \
        --out docs/results/data_memory.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from truncatedtl.files import write_json

ROOT = Path(__file__).resolve().parent.parent


def write_pngs(root: Path, count: int, size: int) -> None:
    """``count`` PNGs in ``root/{a,b}/`` (ImageFolder layout), seeded."""
    from PIL import Image

    rng = np.random.default_rng(count)
    y, x = np.mgrid[0:size, 0:size] / size
    for c in ("a", "b"):
        (root / c).mkdir(parents=True, exist_ok=True)
    for i in range(count):
        phase, cx, cy = rng.uniform(size=3)
        picture = 0.4 + 0.2 * np.sin(2 * np.pi * (x + phase)) + 0.3 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 0.02)
        pixels = np.clip((picture + rng.normal(0, 0.03, picture.shape)) * 255, 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(root / ("a", "b")[i % 2] / f"{i:06d}.png", compress_level=1)


def process_pss(pid: int) -> int:
    """PSS in bytes of ``pid`` and its descendants (0 for processes that are gone)."""
    total = 0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return total + sum(process_pss(int(c)) for c in children)


def child(args: argparse.Namespace) -> dict:
    """One measurement in this process: train the tiny CNN through the product's loader."""
    import torch
    from torch import nn

    from truncatedtl.engine import RunConfig, prepare

    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], process_pss(os.getpid()))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    torch.manual_seed(0)
    config = RunConfig(data=args.data, backbone="resnet18", strategy="ttl", cut=0, image_size=args.image_size,
                       batch_size=args.batch_size, weights="none", num_workers=args.num_workers, cache=args.cache)
    with tempfile.TemporaryDirectory(prefix="ttl-bench-cache-") as cache_dir:
        prepared = prepare(config, Path(cache_dir))
        loader = prepared.loader("train", config)
        model = nn.Sequential(nn.Conv2d(3, 4, 8, stride=8), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
        optimizer = torch.optim.Adam(model.parameters(), 1e-3)
        epochs = []
        for _ in range(args.epochs):
            start, seen = time.perf_counter(), 0
            for x, y in loader:
                loss = nn.functional.cross_entropy(model(x), y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                seen += len(y)
            epochs.append(seen / (time.perf_counter() - start))
        kind = type(prepared.caches[("train", args.image_size, "dtype", args.cache)]).__name__
        del loader
    done.set()
    sampler.join()
    return {"images": args.count, "train_images": len(prepared.data.train), "cache": args.cache,
            "cache_object": kind, "num_workers": args.num_workers, "epoch_images_per_s": [round(e, 1) for e in epochs],
            "images_per_s": round(epochs[-1], 1), "peak_pss_mib": round(peak[0] / 2**20, 1)}


def fit(rows: list[dict], cache: str) -> dict:
    """Least-squares line of peak PSS (bytes) against the number of train images for one cache kind: bytes
    per image with its 95 % interval (Student t, n - 2 degrees of freedom), and the intercept in MiB."""
    from scipy import stats

    points = sorted((r["train_images"], r["peak_pss_mib"] * 2**20) for r in rows if r["cache"] == cache)
    x, y = np.array(points, dtype=float).T
    line = stats.linregress(x, y)
    half = stats.t.ppf(0.975, len(x) - 2) * line.stderr
    return {"cache": cache, "sizes": len(x), "bytes_per_image": line.slope, "low": line.slope - half,
            "high": line.slope + half, "intercept_mib": line.intercept / 2**20, "train_images": (x[0], x[-1])}


def draw_page(results: Path) -> dict[str, str]:
    """The drawn blocks of docs/results/data_memory.md (from data_memory.json): the table and the fits."""
    record = json.loads((results / "data_memory.json").read_text())
    rows = record["rows"]
    lines = ["| images | train images | cache | peak PSS (MiB) | images/s (last epoch) | images/s (epoch 1) |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['images']:,} | {r['train_images']:,} | {r['cache']} | {r['peak_pss_mib']:,.0f} | "
                     f"{r['images_per_s']:,.0f} | {r['epoch_images_per_s'][0]:,.0f} |")
    fits = ["| cache | sizes | bytes per train image (95 % interval) | intercept (MiB) | predicted growth "
            "over the measured range (MiB) |", "|---|---|---|---|---|"]
    for cache in record["settings"]["caches"]:
        f = fit(rows, cache)
        span = (f["train_images"][1] - f["train_images"][0]) / 2**20
        fits.append(f"| {cache} | {f['sizes']} | {f['bytes_per_image']:,.0f} ({f['low']:,.0f} … {f['high']:,.0f}) | "
                    f"{f['intercept_mib']:,.0f} | {f['bytes_per_image'] * span:,.0f} ({f['low'] * span:,.0f} … "
                    f"{f['high'] * span:,.0f}) |")
    return {"table": "\n".join(lines), "fit": "\n".join(fits)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--caches", nargs="+", default=["none", "ram", "disk"])
    parser.add_argument("--num-workers", type=int, default=2)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "data_memory.json")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--cache", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    rows, load = [], [round(v, 2) for v in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="ttl-bench-png-") as tmp:
        for count in args.counts:
            data = Path(tmp) / str(count)
            start = time.perf_counter()
            write_pngs(data, count, args.image_size)
            print(f"{count} PNGs written in {time.perf_counter() - start:.0f} s", flush=True)
            for cache in args.caches:
                command = [sys.executable, "-m", "benchmarks.data_memory", "--child", "--data", str(data),
                           "--count", str(count), "--cache", cache, "--num-workers", str(args.num_workers),
                           "--image-size", str(args.image_size), "--batch-size", str(args.batch_size),
                           "--epochs", str(args.epochs)]
                output = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout
                rows.append(json.loads(output.strip().splitlines()[-1]))
                print(json.dumps(rows[-1]), flush=True)
            for path in sorted(data.rglob("*.png")):
                path.unlink()
    settings = {k: getattr(args, k) for k in ("counts", "caches", "num_workers", "image_size", "batch_size", "epochs")}
    write_json(args.out, {"settings": settings, "cpus": os.cpu_count(), "load_average_start": load, "rows": rows})
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
