"""The search report, drawn from a search directory's saved records only (trials, search, test, cost, SVCCA,
estimates): ``report.json``, ``report.md`` and ``auprc_by_cut.png`` (validation AUPRC per cut with its std
band).

Means and standard deviations are over the repeats (population std: 0 for one repeat). Test scores come
from ``records/test.json``, evaluated once at the end for the chosen model and FTL; only a search run with
``--test-every-cut`` also has them per cut, and its report says so first."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..files import atomic_path, write_json, write_text
from ..record import TrialRecord, mean_std, read_record
from ..tasks import score_label, task_of_kind

REPORT_FILES = ("report.json", "report.md", "auprc_by_cut.png")
SEARCH_MARKER = "records/search.json"


def _read(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"{path.parent.parent} is not a finished search directory: {path.name} is missing "
                                f"(run ttl search again to complete it)")
    return json.loads(path.read_text())


def _summary(records: list[TrialRecord], tests: dict[str, dict], cost: dict, scores: tuple[str, str]) -> dict:
    """One model over its repeats: scores on val and test (``tests``: trial key → test scores), and its cost
    (latency of one image)."""
    first = records[0]
    split_scores = {"val": [r.val for r in records], "test": [tests[r.trial] for r in records]}
    return {"strategy": first.strategy, "cut": first.cut, "trials": [r.trial for r in records],
            **{split: {m: mean_std([v[m] for v in values]) for m in scores} for split, values in split_scores.items()},
            "params": cost["cpu"]["params"], "macs": cost["cpu"]["macs"], "cpu_ms": cost["cpu"]["latency_ms_median"],
            "gpu_ms": cost["gpu"]["latency_ms_median"] if cost["gpu"] else None}


def build_search_report(out: Path) -> dict:
    """The content of ``report.json`` for the search directory ``out``."""
    out = Path(out)
    search = _read(out / SEARCH_MARKER)
    cost = _read(out / "records" / "cost.json")
    trials = {p.stem: read_record(p) for p in sorted((out / "trials").glob("*.json"))}
    missing = [k for k in search["chosen_trials"] + search["ftl_trials"] if k not in trials]
    if missing:
        raise FileNotFoundError(f"{out}: trial records missing: {', '.join(missing)}")
    tests = _read(out / "records" / "test.json")
    scores = task_of_kind(trials[search["ftl_trials"][0]].task).shown
    chosen = _summary([trials[k] for k in search["chosen_trials"]], tests, cost["chosen"], scores)
    ftl = _summary([trials[k] for k in search["ftl_trials"]], tests, cost["ftl"], scores)
    every_cut = search["settings"]["test_every_cut"]
    searched = [r for r in trials.values() if r.strategy == search["strategy"]]
    by_cut = []
    for cut in sorted({r.cut for r in searched}):
        runs = [r for r in searched if r.cut == cut]
        by_cut.append({"cut": cut, "repeats": len(runs),
                       **{f"{split}_{m}": mean_std([getattr(r, split)[m] for r in runs]) for m in scores
                          for split in (("val", "test") if every_cut else ("val",))},
                       "params": runs[0].params, "macs": runs[0].macs})
    base, settings = search["base"], search["settings"]
    latency = {k: cost["chosen"]["cpu"][k] for k in ("batch_size", "threads", "repeats")}
    latency["gpu"] = cost["chosen"]["gpu"]["name"] if cost["chosen"]["gpu"] else None
    report = {
        "method": search["method"], "strategy": search["strategy"], "backbone": base["backbone"],
        "data": base["data"], "chosen_cut": search["chosen_cut"], "reason": search["reason"], "scores": list(scores),
        "trials": len(trials), "repeats": settings["repeats"], "seeds": list(range(settings["repeats"])),
        "train_seconds": round(sum(r.seconds for r in trials.values()), 1),
        "settings": {**{k: base[k] for k in ("image_size", "max_epochs", "batch_size", "limit", "weights",
                                             "split_seed", "device")},
                     **{k: getattr(trials[search["ftl_trials"][0]], k) for k in ("lr", "recipe")}},
        "test_every_cut": every_cut,
        "test_split": (("every trial scored the test split (--test-every-cut): the per-cut test scores are for "
                        "research curves and played no part in the choice") if every_cut else
                       ("the test split was read once, at the end, for the chosen model and FTL only, from their "
                        "saved best-validation checkpoints")),
        "scores_by_cut": search["scores_by_cut"],
        "chosen": chosen, "ftl": ftl,
        "ratios": {"params": chosen["params"] / ftl["params"], "macs": chosen["macs"] / ftl["macs"],
                   "cpu_latency": chosen["cpu_ms"] / ftl["cpu_ms"],
                   "gpu_latency": chosen["gpu_ms"] / ftl["gpu_ms"] if chosen["gpu_ms"] else None},
        "latency": latency, "stages": search["stages"], "by_cut": by_cut,
        "trial_table": [_trial_row(r, scores) for r in trials.values()],
    }
    svcca = out / "records" / "svcca_rule.json"
    if svcca.is_file():
        report["svcca"] = json.loads(svcca.read_text())
    estimates = out / "records" / "estimates.json"
    if estimates.is_file():
        report["statistic"] = json.loads(estimates.read_text())["statistic"]
    return report


def _trial_row(record: TrialRecord, scores: tuple[str, str]) -> dict:
    return {"trial": record.trial, "strategy": record.strategy, "cut": record.cut, "seed": record.seed,
            **{f"val_{m}": record.val[m] for m in scores}, "epochs": record.epochs,
            "best_epoch": record.best_epoch, "seconds": record.seconds, "params": record.params}


def _pm(stat: dict[str, float]) -> str:
    return f"{stat['mean']:.4f} ± {stat['std']:.4f}"


def _name(model: dict) -> str:
    return "FTL" if model["strategy"] == "ftl" else f"{model['strategy'].upper()} (cut {model['cut']})"


def summary_lines(report: dict) -> list[str]:
    """The report's summary: what was searched, the chosen cut, scores and cost against FTL."""
    chosen, ftl, ratios = report["chosen"], report["ftl"], report["ratios"]
    title = (f"{report['method']} search of {report['strategy']} cut points, {report['backbone']} on "
             f"{report['data']}: {report['trials']} trainings, {report['repeats']} repeat(s)")
    lines = [title, f"test split: {report['test_split']}",
             f"chosen cut: {report['chosen_cut']} ({report['reason']})",
             f"{'model':<16} " + " ".join(f"{s + ' ' + score_label(m):>16}" for s in ("val", "test")
                                          for m in report["scores"])]
    for model in (chosen, ftl):
        lines.append(f"{_name(model):<16} " + " ".join(f"{_pm(model[s][m]):>16}" for s in ("val", "test")
                                                        for m in report["scores"]))
    lines.append(f"against FTL: params {ratios['params']:.3f}x ({chosen['params'] / 1e6:.2f} M vs "
                 f"{ftl['params'] / 1e6:.2f} M), MACs {ratios['macs']:.3f}x, CPU latency {ratios['cpu_latency']:.3f}x "
                 f"({chosen['cpu_ms']:.2f} ms vs {ftl['cpu_ms']:.2f} ms, batch {report['latency']['batch_size']}, "
                 f"{report['latency']['threads']} thread(s))")
    return lines


def _markdown(report: dict) -> str:
    chosen, ftl, ratios = report["chosen"], report["ftl"], report["ratios"]
    s = report["settings"]
    a, b = report["scores"]
    la, lb = score_label(a), score_label(b)
    samples = "all samples" if s["limit"] is None else f"at most {s['limit']} samples per split"
    setup = (f"Method **{report['method']}**, strategy **{report['strategy']}**, {report['repeats']} repeat(s) "
             f"(seeds {', '.join(map(str, report['seeds']))}), {report['trials']} trainings in "
             f"{report['train_seconds']:.0f} s. Image {s['image_size']}², at most {s['max_epochs']} epochs, batch "
             f"{s['batch_size']}, LR {s['lr']:g}, weights {s['weights']}, {samples}, split seed {s['split_seed']}, "
             f"device {s['device']}.")
    lines = [f"# Cut-point search: {report['backbone']} on {report['data']}", "",
             f"**Test split:** {report['test_split']}.", "", setup, "",
             "## Chosen cut", "", f"**Cut {report['chosen_cut']}**: {report['reason']}.", "",
             "The choice uses validation scores only; test scores below are those of the two models.", "",
             f"| model | val {la} | val {lb} | test {la} | test {lb} | params (M) | MACs (G) | CPU ms | GPU ms |",
             "|---|---|---|---|---|---|---|---|---|"]
    for model in (chosen, ftl):
        lines.append(f"| {_name(model)} | " + " | ".join(_pm(model[sp][m]) for sp in ("val", "test") for m in (a, b))
                     + f" | {model['params'] / 1e6:.2f} | {model['macs'] / 1e9:.3f} | {model['cpu_ms']:.2f} | "
                     + ("–" if model["gpu_ms"] is None else f"{model['gpu_ms']:.2f}") + " |")
    lat = report["latency"]
    against = (f"Against FTL: params **{ratios['params']:.3f}×**, MACs **{ratios['macs']:.3f}×**, CPU latency "
               f"**{ratios['cpu_latency']:.3f}×** (median of {lat['repeats']} forward passes, batch "
               f"{lat['batch_size']}, {lat['threads']} thread(s))"
               + ("." if lat["gpu"] is None else f"; GPU latency **{ratios['gpu_latency']:.3f}×** ({lat['gpu']})."))
    lines += ["", against, "",
              f"## Validation {lb} by cut", "", f"![validation {lb} by cut](auprc_by_cut.png)", "",
              "| stage | cuts tried |", "|---|---|"]
    lines += [f"| {st['name']} | {', '.join(map(str, st['cuts']))} |" for st in report["stages"]]
    test = report["test_every_cut"]
    lines += ["", f"| cut | repeats | val {la} | val {lb} |" + (f" test {la} | test {lb} |" if test else "")
              + " params (M) |", "|---|---|---|---|" + ("---|---|" if test else "") + "---|"]
    lines += [f"| {r['cut']} | {r['repeats']} | {_pm(r['val_' + a])} | {_pm(r['val_' + b])} | "
              + (f"{_pm(r['test_' + a])} | {_pm(r['test_' + b])} | " if test else "")
              + f"{r['params'] / 1e6:.2f} |" for r in report["by_cut"]]
    if "statistic" in report:
        lines += ["", f"## Estimated score by cut: {report['statistic']}", "", "| cut | score |", "|---|---|"]
        lines += [f"| {row['cut']} | {row['score']:.4f} |" for row in report["scores_by_cut"]]
    if "svcca" in report:
        lines += ["", *_svcca_markdown(report["svcca"])]
    lines += ["", "## Trials", "", f"| trial | val {la} | val {lb} | epochs (best) | seconds |", "|---|---|---|---|---|"]
    lines += [f"| {t['trial']} | {t['val_' + a]:.4f} | {t['val_' + b]:.4f} | {t['epochs']} ({t['best_epoch']}) | "
              f"{t['seconds']:.1f} |" for t in report["trial_table"]]
    return "\n".join(lines) + "\n"


def _svcca_markdown(svcca: dict) -> list[str]:
    lines = ["## SVCCA: pretrained vs finetuned features against random features", "", svcca["rule"], "",
             "| cut | mean coefficient, pretrained vs finetuned | mean coefficient, random | overlap |",
             "|---|---|---|---|"]
    lines += [f"| {p['cut']} | {p['finetuned_mean']:.4f} | {p['random_mean']:.4f} | {p['overlap']:.3f} |"
              for p in svcca["per_cut"]]
    return lines


def _plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["by_cut"]
    score = report["scores"][1]
    cuts = np.array([r["cut"] for r in rows])
    mean = np.array([r[f"val_{score}"]["mean"] for r in rows])
    std = np.array([r[f"val_{score}"]["std"] for r in rows])
    ftl = report["ftl"]["val"][score]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(cuts, mean, "o-", color="tab:blue", label=f"{report['strategy']} (mean over repeats)")
    ax.fill_between(cuts, mean - std, mean + std, color="tab:blue", alpha=0.2)
    ax.axhline(ftl["mean"], color="tab:red", ls="--", label="FTL")
    ax.axhspan(ftl["mean"] - ftl["std"], ftl["mean"] + ftl["std"], color="tab:red", alpha=0.1)
    best = next(r for r in rows if r["cut"] == report["chosen_cut"])
    ax.plot([report["chosen_cut"]], [best[f"val_{score}"]["mean"]], "*", ms=16, color="tab:green",
            label=f"chosen cut {report['chosen_cut']}")
    ax.set(xlabel="cut point k", ylabel=f"validation {score_label(score)}", title=f"{report['backbone']}: {report['method']} search")
    if "svcca" in report:
        twin = ax.twinx()
        per_cut = report["svcca"]["per_cut"]
        twin.plot([p["cut"] for p in per_cut], [p["overlap"] for p in per_cut], "s:", color="tab:gray",
                  label="SVCCA overlap with random")
        twin.axhline(report["svcca"]["threshold"], color="tab:gray", lw=0.8)
        twin.set(ylabel="overlap", ylim=(0, 1.05))
        twin.legend(loc="lower right", fontsize=8)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)


def write_search_report(out: Path, show: Callable[[dict], None] | None = None) -> dict:
    """Write ``report.json``, ``report.md`` and ``auprc_by_cut.png`` into ``out`` from its records alone;
    ``show`` gets the report first, so a full disk loses no score."""
    out = Path(out)
    report = build_search_report(out)
    if show is not None:
        show(report)
    _plot(report, out / "auprc_by_cut.png")
    write_text(out / "report.md", _markdown(report))
    write_json(out / "report.json", report)
    return report
