"""SVCCA: streaming covariances (ours) against a plain NumPy reference holding every activation in memory.

Run by hand from the repository root:  python -m benchmarks.svcca
Each measurement runs in a fresh process; peak memory is the rise of the resident set size (VmHWM after
the work minus VmRSS before it, the peak reset between), which counts NumPy, PyTorch and BLAS buffers
alike. The processes run with glibc's mmap threshold fixed at 1 MiB, so that freed batch buffers go back
to the system instead of fragmenting the heap. Linux only. Prints a Markdown table.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from tests.analysis.test_svcca import reference_svcca
from truncatedtl.analysis import CrossCovariance
from truncatedtl.files import write_json


def machine() -> dict:
    """What the timings depend on: CPUs, load while the run started, library versions."""
    import torch

    return {"cpus": os.cpu_count(), "load_average_start": [round(v, 2) for v in os.getloadavg()],
            "numpy": np.__version__, "torch": torch.__version__}


def activation_batches(
    points: int, channels: int, batch: int, seed: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Paired float32 activations (batch, channels), made on the fly: a fixed random mixing of 64 shared
    latent factors plus independent noise factors on each side, so the correlations are non-trivial."""
    rng = np.random.default_rng(seed)
    mix_x, mix_y = (rng.standard_normal((channels, channels)).astype(np.float32) for _ in range(2))
    shared = 64
    for index, start in enumerate(range(0, points, batch)):
        rows = min(batch, points - start)
        draw = np.random.default_rng([seed, index])
        latent = draw.standard_normal((rows, shared), dtype=np.float32)
        noisy = 0.8 * latent + 0.6 * draw.standard_normal((rows, shared), dtype=np.float32)
        x = np.hstack([latent, draw.standard_normal((rows, channels - shared), dtype=np.float32)]) @ mix_x
        y = np.hstack([noisy, draw.standard_normal((rows, channels - shared), dtype=np.float32)]) @ mix_y
        yield x, y


def _rss_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field))


def measure(method: str, points: int, channels: int, batch: int, seed: int, repeats: int) -> dict:
    """Fastest of `repeats` SVCCA runs in seconds (data generation excluded) and the peak memory rise."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    before = _rss_kib("VmRSS:")
    times = []
    if method == "reference":
        xs, ys = np.empty((points, channels)), np.empty((points, channels))
        for row, (x, y) in zip(range(0, points, batch), activation_batches(points, channels, batch, seed)):
            xs[row : row + len(x)], ys[row : row + len(y)] = x, y
    for _ in range(repeats):
        if method == "ours":
            seconds, stats = 0.0, CrossCovariance()
            for x, y in activation_batches(points, channels, batch, seed):
                start = time.perf_counter()
                stats.update(x, y)
                seconds += time.perf_counter() - start
            start = time.perf_counter()
            coefficients = stats.coefficients()
        else:
            seconds, start = 0.0, time.perf_counter()
            coefficients = reference_svcca(xs, ys)
        times.append(seconds + time.perf_counter() - start)
    peak = _rss_kib("VmHWM:")
    return {"seconds": min(times), "peak_mib": (peak - before) / 1024, "coefficients": coefficients.tolist()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, nargs="+", default=[20_000, 100_000, 500_000])
    parser.add_argument("--channels", type=int, default=512)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="time is the fastest of this many runs")
    parser.add_argument("--json", type=Path, help="also write the measurements (the page's record) here")
    parser.add_argument("--worker", choices=["ours", "reference"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(
            json.dumps(
                measure(args.worker, args.points[0], args.channels, args.batch, args.seed, args.repeats)
            )
        )
        return

    def run(method: str, points: int) -> dict:
        command = [sys.executable, "-m", "benchmarks.svcca", "--worker", method, "--points", str(points)]
        command += ["--channels", str(args.channels), "--batch", str(args.batch), "--seed", str(args.seed)]
        command += ["--repeats", str(args.repeats)]
        env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(2**20)}
        return json.loads(subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout)

    print(
        f"{args.channels} channels on each side, ours fed in batches of {args.batch} rows, float64; "
        f"time: fastest of {args.repeats} runs.\n"
    )
    print(
        "| data points | ours (s) | reference (s) | time ref/ours | ours peak (MiB) | reference peak (MiB) "
        "| memory ref/ours | coefficients | max abs diff |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    rows, started = [], machine()
    for points in args.points:
        ours, ref = run("ours", points), run("reference", points)
        a, b = np.array(ours.pop("coefficients")), np.array(ref.pop("coefficients"))
        diff = np.abs(a - b).max() if a.shape == b.shape else float("nan")
        rows.append({"points": points, "ours": {**ours, "coefficients": len(a)},
                     "reference": {**ref, "coefficients": len(b)}, "max_abs_diff": float(diff)})
        print(
            f"| {points:,} | {ours['seconds']:.2f} | {ref['seconds']:.2f} | {ref['seconds'] / ours['seconds']:.1f}x "
            f"| {ours['peak_mib']:.0f} | {ref['peak_mib']:.0f} | {ref['peak_mib'] / ours['peak_mib']:.1f}x "
            f"| {len(a)} / {len(b)} | {diff:.1e} |",
            flush=True,
        )
    if args.json:
        settings = {k: getattr(args, k) for k in ("points", "channels", "batch", "seed", "repeats")}
        write_json(args.json, {"settings": settings, "machine": started, "rows": rows})


def table(record: dict) -> str:
    """The page's table, drawn from the benchmark's JSON record."""
    lines = ["| data points | ours (s) | reference (s) | time ref/ours | ours peak (MiB) | reference peak (MiB) "
             "| memory ref/ours | coefficients | max abs diff |", "|---|---|---|---|---|---|---|---|---|"]
    for row in record["rows"]:
        ours, ref = row["ours"], row["reference"]
        lines.append(f"| {row['points']:,} | {ours['seconds']:.2f} | {ref['seconds']:.2f} | "
                     f"{ref['seconds'] / ours['seconds']:.1f}x | {ours['peak_mib']:.0f} | {ref['peak_mib']:.0f} | "
                     f"{ref['peak_mib'] / ours['peak_mib']:.1f}x | {ours['coefficients']} / {ref['coefficients']} | "
                     f"{row['max_abs_diff']:.1e} |")
    return "\n".join(lines)


def draw_page(results: Path) -> dict[str, str]:
    """The drawn blocks of docs/results/svcca_benchmark.md (from svcca_benchmark.json)."""
    record = json.loads((results / "svcca_benchmark.json").read_text())
    s, m = record["settings"], record["machine"]
    settings = (f"{s['channels']} channels on each side, ours fed in batches of {s['batch']:,} rows, float64; time: "
                f"fastest of {s['repeats']} runs; seed {s['seed']}. Machine: {m['cpus']} CPUs, load average "
                f"{m['load_average_start'][0]:.1f} when the run started; torch {m['torch']}, NumPy {m['numpy']}.")
    return {"settings": settings, "table": table(record)}


if __name__ == "__main__":
    main()
