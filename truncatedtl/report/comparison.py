"""The comparison table (shaped like the paper's Table II), drawn from a comparison directory's trial records
only: ``table.csv`` (one row per strategy) and ``table.md`` (the same with its settings stated).

Scores are test AUROC/AUPRC, mean and population std over the repeats (std 0 for one repeat). Params and
MACs are those of the trained network; latency is each model's median over its timed forward passes (batch
1), then the median over the repeats' models."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..files import write_text
from ..record import LABELS, Trial, mean_std, shown_scores

COMPARISON_FILE = "compare.json"


@dataclass(frozen=True)
class Comparison:
    """What a comparison trains: ``strategies`` in table order, each at its cut point (``cuts``; the full
    network for strategies without one), ``repeats`` models each with seeds 0..repeats-1; latency measured
    on CPU with ``threads`` threads (and on the GPU when there is one)."""

    strategies: tuple[str, ...]
    cuts: dict[str, int]
    repeats: int
    threads: int = 1

    def trials(self) -> list[Trial]:
        return [Trial(s, self.cuts[s], seed) for s in self.strategies for seed in range(self.repeats)]


def read_comparison(directory: Path) -> tuple[Comparison, list[dict]]:
    """The comparison a directory holds and its trial records in table order; says which are missing."""
    directory = Path(directory)
    spec = json.loads((directory / COMPARISON_FILE).read_text())
    keys = spec.pop("trials")
    comparison = Comparison(**{**spec, "strategies": tuple(spec["strategies"])})
    paths = [directory / "trials" / f"{key}.json" for key in keys]
    missing = [p.stem for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"{directory}: {len(missing)} of {len(keys)} trials are not finished "
                                f"({', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}); run the same "
                                f"ttl compare command again to finish them")
    return comparison, [json.loads(p.read_text()) for p in paths]


def columns(scores: tuple[str, str]) -> tuple[str, ...]:
    """The table's columns for the two test ``scores`` it shows (AUROC/AUPRC, or Jaccard/Dice)."""
    return ("strategy", "cut", *(f"{s}_{stat}" for s in scores for stat in ("mean", "std")), "params", "macs",
            "cpu_ms", "gpu_ms")


def comparison_rows(comparison: Comparison, records: list[dict]) -> list[dict]:
    """One row per strategy (:func:`columns`); ``gpu_ms`` is None where no GPU was measured."""
    unmeasured = [r["trial"] for r in records if "cost" not in r]
    if unmeasured:
        raise FileNotFoundError(f"trials {', '.join(unmeasured[:3])} have no latency measurement yet; run the same "
                                f"ttl compare command again to measure them")
    rows = []
    for strategy in comparison.strategies:
        runs = [r for r in records if r["strategy"] == strategy]
        test = {s: mean_std([r["test"][s] for r in runs]) for s in shown_scores(runs[0]["task"])}
        gpu = [r["cost"]["gpu"]["latency_ms_median"] for r in runs if r["cost"]["gpu"] is not None]
        rows.append({
            "strategy": strategy, "cut": runs[0]["cut"],
            **{f"{s}_{stat}": value[stat] for s, value in test.items() for stat in ("mean", "std")},
            "params": int(runs[0]["params"]), "macs": int(runs[0]["macs"]),
            "cpu_ms": float(np.median([r["cost"]["cpu"]["latency_ms_median"] for r in runs])),
            "gpu_ms": float(np.median(gpu)) if len(gpu) == len(runs) else None,
        })
    return rows


def table_csv(rows: list[dict], scores: tuple[str, str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns(scores), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)
    return buffer.getvalue()


def table_markdown(comparison: Comparison, rows: list[dict], records: list[dict]) -> str:
    """The table with a caption that states data, settings, repeats and how latency was measured."""
    config = records[0]["config"]
    scores = shown_scores(records[0]["task"])
    cpu = records[0]["cost"]["cpu"]
    gpu = records[0]["cost"]["gpu"]
    samples = "all samples" if config["limit"] is None else f"at most {config['limit']} samples per split"
    seeds = ", ".join(map(str, range(comparison.repeats)))
    settings = (f"{comparison.repeats} repeat(s) per strategy (training seeds {seeds}, split seed "
                f"{config['split_seed']}); test split; mean ± population std over the repeats. Image "
                f"{config['image_size']}², weights {config['weights']}, {samples}, at most {config['max_epochs']} "
                f"epochs, batch {config['batch_size']}, LR {records[0].get('lr', config['lr']):g}"
                + (f" ({records[0]['recipe']})" if records[0].get("recipe") else "")
                + f", trained on {config['device']}.")
    latency = (f"Latency per image (batch {cpu['batch_size']}): median of {cpu['repeats']} timed forward passes "
               f"after warm-up, then median over the repeats' models. CPU with {cpu['threads']} thread(s); "
               + (f"GPU {gpu['name']}." if gpu is not None else "no GPU was present (GPU column empty)."))
    lines = [f"# Strategies side by side: {config['backbone']} on {config['data']}", "", settings, "", latency, "",
             f"| strategy | cut | test {LABELS[scores[0]]} | test {LABELS[scores[1]]} | params (M) | MACs (G) | CPU ms | "
             "GPU ms | epochs | train s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        gpu_ms = "–" if r["gpu_ms"] is None else f"{r['gpu_ms']:.2f}"
        runs = [x for x in records if x["strategy"] == r["strategy"]]
        lines.append(f"| {r['strategy']} | {r['cut']} | "
                     + " | ".join(f"{r[s + '_mean']:.4f} ± {r[s + '_std']:.4f}" for s in scores)
                     + f" | {r['params'] / 1e6:.2f} | "
                     f"{r['macs'] / 1e9:.3f} | {r['cpu_ms']:.2f} | {gpu_ms} | "
                     f"{np.mean([x['epochs'] for x in runs]):.1f} | {sum(x['seconds'] for x in runs):.0f} |")
    lines += ["", ("cut: units kept above the stem (the full network for ftl and linear); epochs: mean epochs "
                   "trained per repeat; train s: training time of all repeats together.")]
    return "\n".join(lines) + "\n"


def write_comparison_tables(directory: Path, show: Callable[[str], None] | None = None) -> str:
    """Write ``table.csv`` and ``table.md`` into ``directory`` from its records; returns the Markdown, which
    ``show`` gets first, so a full disk loses no score."""
    directory = Path(directory)
    comparison, records = read_comparison(directory)
    rows = comparison_rows(comparison, records)
    markdown = table_markdown(comparison, rows, records)
    if show is not None:
        show(markdown)
    write_text(directory / "table.csv", table_csv(rows, shown_scores(records[0]["task"])))
    write_text(directory / "table.md", markdown)
    return markdown
