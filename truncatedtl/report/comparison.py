"""The comparison table (shaped like the paper's Table II), drawn from a comparison directory's trial records
and their kept test predictions only: ``table.csv`` (one row per strategy), ``table.md`` (the same with its
settings stated, each strategy's paired comparison against FTL and its verdict) and ``report.json``.

Scores are test AUROC/AUPRC (Jaccard/Dice), mean over the repeats with its 95 % interval (see
:mod:`truncatedtl.report.evidence`) and the population std. Params and MACs are those of the trained network;
latency is each model's median over rounds of timed forward passes (batch 1), then the median over the
repeats' models. Every model of a comparison is timed side by side in one process, in interleaved rounds;
the ratio to FTL is the median over rounds of each model's latency over that of the FTL model of the same
seed, then the median over seeds, shown with its lowest and highest round."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..backbones import input_side
from ..evidence import MARGIN, Predictions, predictions_file
from ..files import write_json, write_text
from ..record import Trial, TrialRecord, read_record
from ..tasks import score_label, task_of_kind
from .evidence import evidence_lines, flag_lines, fmt_score, headline, model_evidence, reading, versus_ftl

COMPARISON_FILE = "compare.json"
REPORT_FILE = "report.json"


@dataclass(frozen=True)
class Comparison:
    """What a comparison trains: ``strategies`` in table order, each at its cut point (``cuts``; the full
    network for strategies without one), ``repeats`` models each with seeds 0..repeats-1; latency measured
    on CPU with ``threads`` threads (and on the GPU when there is one); verdicts against FTL at ``margin``."""

    strategies: tuple[str, ...]
    cuts: dict[str, int]
    repeats: int
    threads: int = 1
    margin: float = MARGIN

    def trials(self) -> list[Trial]:
        return [Trial(s, self.cuts[s], seed) for s in self.strategies for seed in range(self.repeats)]


def read_comparison(directory: Path) -> tuple[Comparison, list[TrialRecord]]:
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
    return comparison, [read_record(p) for p in paths]


def read_predictions(directory: Path, records: list[TrialRecord], split: str = "test") -> dict[str, Predictions | None]:
    """Each trial's kept ``split`` predictions (trial key → predictions, None where not kept)."""
    paths = {r.trial: Path(directory) / "trials" / f"{r.trial}.{predictions_file(split)}" for r in records}
    return {key: Predictions.load(path) if path.is_file() else None for key, path in paths.items()}


def columns(scores: tuple[str, str]) -> tuple[str, ...]:
    """The table's columns for the two test ``scores`` it shows (AUROC/AUPRC, or Jaccard/Dice)."""
    return ("strategy", "cut", *(f"{s}_{stat}" for s in scores for stat in ("mean", "std", "low", "high")),
            "params", "macs", "cpu_ms", "gpu_ms",
            *(f"{d}_ratio{part}" for d in ("cpu", "gpu") for part in ("", "_low", "_high")))


def ftl_ratio(runs: list[TrialRecord], device: str) -> dict[str, float | None]:
    """``<device>_ratio`` (median over the runs of their latency ratio to FTL), ``_low`` and ``_high`` (the
    lowest and highest round of any run); None where the runs were not timed beside an FTL model."""
    costs = [r.cost[device] for r in runs]
    keys = [f"{device}_ratio{part}" for part in ("", "_low", "_high")]
    if not all(c is not None and "ratio" in c for c in costs):
        return dict.fromkeys(keys)
    return dict(zip(keys, (float(np.median([c["ratio"] for c in costs])),
                           min(c["ratio_spread"][0] for c in costs), max(c["ratio_spread"][1] for c in costs)),
                    strict=True))


def comparison_rows(comparison: Comparison, records: list[TrialRecord],
                    evidence: dict[str, dict]) -> list[dict]:
    """One row per strategy (:func:`columns`); ``gpu_ms`` is None where no GPU was measured, ``low``/``high``
    where no interval is known. ``evidence``: strategy → :func:`model_evidence`."""
    unmeasured = [r.trial for r in records if r.cost is None]
    if unmeasured:
        raise FileNotFoundError(f"trials {', '.join(unmeasured[:3])} have no latency measurement yet; run the same "
                                f"ttl compare command again to measure them")
    rows = []
    for strategy in comparison.strategies:
        runs = [r for r in records if r.strategy == strategy]
        test = evidence[strategy]["scores"]
        gpu = [r.cost["gpu"]["latency_ms_median"] for r in runs if r.cost["gpu"] is not None]
        rows.append({
            "strategy": strategy, "cut": runs[0].cut,
            **{f"{s}_{stat}": value for s in task_of_kind(runs[0].task).shown
               for stat, value in (("mean", test[s]["mean"]), ("std", test[s]["std"]),
                                   ("low", test[s]["ci"][0] if test[s]["ci"] else None),
                                   ("high", test[s]["ci"][1] if test[s]["ci"] else None))},
            "params": int(runs[0].params), "macs": int(runs[0].macs),
            "cpu_ms": float(np.median([r.cost["cpu"]["latency_ms_median"] for r in runs])),
            "gpu_ms": float(np.median(gpu)) if len(gpu) == len(runs) else None,
            **ftl_ratio(runs, "cpu"), **ftl_ratio(runs, "gpu"),
        })
    return rows


def table_csv(rows: list[dict], scores: tuple[str, str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns(scores), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in rows)
    return buffer.getvalue()


def build_comparison_report(comparison: Comparison, records: list[TrialRecord],
                            predictions: dict[str, Predictions | None]) -> dict:
    """The content of ``report.json``: each strategy's test evidence and cost, and ``versus_ftl`` (every other
    strategy against FTL, where FTL is compared) with the headline its verdicts make."""
    scores = task_of_kind(records[0].task).shown
    runs = {s: [r for r in records if r.strategy == s] for s in comparison.strategies}
    evidence = {s: model_evidence(rs, [predictions.get(r.trial) for r in rs], scores) for s, rs in runs.items()}
    rows = comparison_rows(comparison, records, evidence)
    against: list[dict] = []
    if "ftl" in runs:
        ftl = runs["ftl"]
        for s in comparison.strategies:
            if s == "ftl":
                continue
            against += versus_ftl(s, runs[s][0].cut, [predictions.get(r.trial) for r in runs[s]],
                                  [predictions.get(r.trial) for r in ftl],
                                  {m: ([r.test[m] for r in runs[s]], [r.test[m] for r in ftl]) for m in scores},
                                  comparison.margin, tuple(evidence[s]["flags"]) + tuple(evidence["ftl"]["flags"]))
    first = evidence[comparison.strategies[0]]
    summary = (headline(against, comparison.margin, first["seeds"], first["samples"]) if against else
               "FTL is not among the compared strategies: no verdict against it.")
    return {"backbone": records[0].backbone, "data": records[0].data, "scores": list(scores),
            "strategies": list(comparison.strategies), "repeats": comparison.repeats, "margin": comparison.margin,
            "seeds": first["seeds"], "samples": first["samples"], "headline": summary,
            "models": [{**row, "test": evidence[row["strategy"]]["scores"],
                        **{k: evidence[row["strategy"]][k] for k in ("seeds", "samples", "groups", "flags")}}
                       for row in rows],
            "versus_ftl": against}


def table_markdown(comparison: Comparison, report: dict, records: list[TrialRecord]) -> str:
    """The table with a caption that states data, settings, repeats and how latency was measured, the headline
    verdicts, each strategy against FTL and the flags."""
    config = records[0].config
    scores = task_of_kind(records[0].task).shown
    cpu = records[0].cost["cpu"]
    gpu = records[0].cost["gpu"]
    samples = "all samples" if config["limit"] is None else f"at most {config['limit']} samples per split"
    seeds = ", ".join(map(str, range(comparison.repeats)))
    intervals = sorted({report["models"][0]["test"][m]["interval"] for m in scores})
    settings = (f"{comparison.repeats} repeat(s) per strategy (training seeds {seeds}, split seed "
                f"{config['split_seed']}); test split, n = {report['seeds']} seed(s), N = {report['samples']} test "
                f"samples; mean over the repeats with its 95 % interval ({'; '.join(intervals)}). Image "
                f"{input_side(config['backbone'], config['image_size'])}, weights {config['weights']}, {samples}, at most {config['max_epochs']} "
                f"epochs, batch {config['batch_size']}, LR {records[0].lr if records[0].lr is not None else config['lr']:g}"
                + (f" ({records[0].recipe})" if records[0].recipe is not None else "")  # older records lack both
                + f", trained on {config['device']}.")
    if "rounds" in cpu:
        rounds = cpu["rounds"]
        how = (f"every model timed side by side in one process, {rounds} interleaved rounds of "
               f"{cpu['repeats'] // rounds} forward pass(es) after warm-up; median over the rounds, then over the "
               f"repeats' models. × FTL: latency over that of the FTL model of the same seed, median over rounds and "
               f"seeds [lowest, highest round]")
    else:  # records measured before models were timed side by side: one model after the other, no ratio
        how = (f"median of {cpu['repeats']} timed forward passes after warm-up, each model timed on its own (not "
               f"side by side, so no × FTL ratio), then median over the repeats' models")
    latency = (f"Latency per image (batch {cpu['batch_size']}): {how}. CPU with {cpu['threads']} thread(s); "
               + (f"GPU {gpu['name']}." if gpu is not None else "no GPU was present (GPU column empty)."))
    lines = [f"# Strategies side by side: {config['backbone']} on {config['data']}", "", f"**{report['headline']}**",
             "", settings, "", latency, "",
             f"| strategy | cut | test {score_label(scores[0])} [95 % CI] | test {score_label(scores[1])} [95 % CI] | params (M) | "
             "MACs (G) | CPU ms | CPU × FTL | GPU ms | GPU × FTL | epochs | train s | flags |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["models"]:
        gpu_ms = "–" if r["gpu_ms"] is None else f"{r['gpu_ms']:.2f}"
        runs = [x for x in records if x.strategy == r["strategy"]]
        flags = ", ".join(f.replace("_", " ") for f in r["flags"]) or "–"
        lines.append(f"| {r['strategy']} | {r['cut']} | " + " | ".join(fmt_score(r["test"][s]) for s in scores)
                     + f" | {r['params'] / 1e6:.2f} | "
                     f"{r['macs'] / 1e9:.3f} | {r['cpu_ms']:.2f} | {_ratio_cell(r, 'cpu')} | {gpu_ms} | "
                     f"{_ratio_cell(r, 'gpu')} | "
                     f"{np.mean([x.epochs for x in runs]):.1f} | {sum(x.seconds for x in runs):.0f} | {flags} |")
    lines += ["", ("cut: units kept above the stem (the full network for ftl and linear); epochs: mean epochs "
                   "trained per repeat; train s: training time of all repeats together."), ""]
    if report["versus_ftl"]:
        lines += [f"## Against FTL (margin δ = {report['margin']:g})", "", *evidence_lines(report["versus_ftl"]), "",
                  reading(report["versus_ftl"]), ""]
    lines += flag_lines([(r["strategy"], r["flags"]) for r in report["models"]])
    return "\n".join(lines).rstrip() + "\n"


def _ratio_cell(row: dict, device: str) -> str:
    ratio = row[f"{device}_ratio"]
    return "–" if ratio is None else (f"{ratio:.2f}× [{row[f'{device}_ratio_low']:.2f}, "
                                      f"{row[f'{device}_ratio_high']:.2f}]")


def write_comparison_tables(directory: Path, show: Callable[[str], None] | None = None) -> str:
    """Write ``table.csv``, ``table.md`` and ``report.json`` into ``directory`` from its records and kept
    predictions; returns the Markdown, which ``show`` gets first, so a full disk loses no score."""
    directory = Path(directory)
    markdown, csv_text, report = comparison_tables(directory)
    if show is not None:
        show(markdown)
    write_text(directory / "table.csv", csv_text)
    write_text(directory / "table.md", markdown)
    write_json(directory / REPORT_FILE, report)
    return markdown


def comparison_tables(directory: Path) -> tuple[str, str, dict]:
    """``table.md``, ``table.csv`` and the ``report.json`` content of a comparison directory, drawn from its
    records and kept predictions."""
    comparison, records = read_comparison(directory)
    report = build_comparison_report(comparison, records, read_predictions(directory, records))
    rows = [{k: m[k] for k in columns(tuple(report["scores"]))} for m in report["models"]]
    return (table_markdown(comparison, report, records), table_csv(rows, task_of_kind(records[0].task).shown),
            report)
