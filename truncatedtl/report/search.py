"""The search report, drawn from a search directory's saved records only (trials and their kept predictions,
search, test, cost, SVCCA, estimates): ``report.json``, ``report.md`` and ``auprc_by_cut.png`` (validation
AUPRC per cut with its noise band, and params per cut).

Validation means and standard deviations are over the repeats (population std; with one repeat the bootstrap
interval over validation samples is shown instead). Test scores come from ``records/test.json``, evaluated once
at the end for the chosen model and FTL, each with its 95 % interval and the chosen model's paired comparison
against FTL with a verdict at the margin (:mod:`truncatedtl.report.evidence`); only a search run with
``--test-every-cut`` also has them per cut, and its report says so first."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..backbones import input_side
from ..evidence import MARGIN, Predictions, predictions_file, standard_error
from ..files import atomic_path, write_json, write_text
from ..record import TrialRecord, mean_std, read_record
from ..tasks import score_label, task_of_kind
from .evidence import (
    evidence_lines,
    flag_lines,
    fmt_score,
    headline,
    model_evidence,
    model_name,
    reading,
    versus_ftl,
)

REPORT_FILES = ("report.json", "report.md", "auprc_by_cut.png")
SEARCH_MARKER = "records/search.json"


def _read(path: Path) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"{path.parent.parent} is not a finished search directory: {path.name} is missing "
                                f"(run ttl search again to complete it)")
    return json.loads(path.read_text())


def _predictions(out: Path, key: str, split: str) -> Predictions | None:
    path = out / "trials" / f"{key}.{predictions_file(split)}"
    return Predictions.load(path) if path.is_file() else None


def _val(records: list[TrialRecord], scores: tuple[str, str]) -> dict:
    """Validation scores over the repeats: mean ± std, and with one repeat its bootstrap interval (``ci``)."""
    val = {m: mean_std([r.val[m] for r in records]) for m in scores}
    if len(records) == 1 and records[0].val_ci:
        for m in scores:
            val[m]["ci"] = records[0].val_ci[m]
    return val


def _summary(out: Path, records: list[TrialRecord], tests: dict[str, dict], cost: dict, scores: tuple[str, str],
             name: str) -> dict:
    """One model over its repeats: scores on val and test with the test evidence (``tests``: trial key → test
    scores), its flags and its cost (latency of one image)."""
    first = records[0]
    test = model_evidence(records, [_predictions(out, r.trial, "test") for r in records], scores,
                          scores=[tests[r.trial] for r in records])
    return {"strategy": first.strategy, "cut": first.cut, "name": name, "trials": [r.trial for r in records],
            "val": _val(records, scores), "test": test["scores"],
            **{k: test[k] for k in ("seeds", "samples", "groups", "flags")},
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
    no_truncation = search.get("no_truncation", [])
    chosen_name = model_name(search["strategy"], search["chosen_cut"])
    if search["chosen_cut"] in no_truncation:
        chosen_name += ", no truncation: FTL's network"
    chosen = _summary(out, [trials[k] for k in search["chosen_trials"]], tests, cost["chosen"], scores, chosen_name)
    ftl = _summary(out, [trials[k] for k in search["ftl_trials"]], tests, cost["ftl"], scores, "FTL")
    if search["chosen_cut"] in no_truncation:
        chosen["flags"]["no_truncation"] = (f"cut {search['chosen_cut']} builds and trains the same network as FTL "
                                            f"(the whole encoder kept): FTL's trials stand for it, trained once")
    every_cut = search["settings"]["test_every_cut"]
    margin = search["settings"].get("margin", MARGIN)
    versus = versus_ftl(search["strategy"], search["chosen_cut"],
                        [_predictions(out, k, "test") for k in search["chosen_trials"]],
                        [_predictions(out, k, "test") for k in search["ftl_trials"]],
                        {m: ([tests[k][m] for k in search["chosen_trials"]], [tests[k][m] for k in search["ftl_trials"]])
                         for m in scores}, margin, tuple(chosen["flags"]) + tuple(ftl["flags"]))
    by_cut = _by_cut(out, trials, search, scores, every_cut)
    base, settings = search["base"], search["settings"]
    latency = {k: cost["chosen"]["cpu"].get(k, 1) for k in ("batch_size", "threads", "repeats", "rounds")}
    latency["gpu"] = cost["chosen"]["gpu"]["name"] if cost["chosen"]["gpu"] else None
    report = {
        "method": search["method"], "strategy": search["strategy"], "backbone": base["backbone"],
        "data": base["data"], "chosen_cut": search["chosen_cut"], "reason": search["reason"], "scores": list(scores),
        "select": search.get("select"), "best_cut": search.get("best_cut"), "no_truncation": no_truncation,
        "margin": margin, "headline": headline(versus, margin, chosen["seeds"], chosen["samples"]),
        "versus_ftl": versus,
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
                   **_latency_ratio(cost["chosen"], "cpu"), **_latency_ratio(cost["chosen"], "gpu")},
        "latency": latency, "stages": search["stages"], "by_cut": by_cut,
        "trial_table": [_trial_row(r, scores) for r in trials.values()],
    }
    svcca = out / "records" / "svcca_rule.json"
    if svcca.is_file():
        report["svcca"] = json.loads(svcca.read_text())
    estimates = out / "records" / "estimates.json"
    if estimates.is_file():
        report["statistic"] = json.loads(estimates.read_text())["statistic"]
    ceiling = out / "records" / "ceiling.json"
    if ceiling.is_file():
        report["ceiling"] = json.loads(ceiling.read_text())
    return report


def _latency_ratio(cost: dict, device: str) -> dict:
    """``<device>_latency`` (the chosen model's latency over FTL's, timed side by side: median over rounds) and
    ``<device>_latency_spread`` [lowest, highest round]; None where not measured (no GPU, or a record from
    before latency was timed side by side)."""
    measured = cost[device] is not None and "ratio" in cost[device]
    return {f"{device}_latency": cost[device]["ratio"] if measured else None,
            f"{device}_latency_spread": cost[device]["ratio_spread"] if measured else None}


def _ratio_text(ratios: dict, device: str, bold: str = "") -> str:
    if ratios[f"{device}_latency"] is None:
        return "not timed side by side (rerun ttl search to measure it)"
    low, high = ratios[f"{device}_latency_spread"]
    return f"{bold}{ratios[f'{device}_latency']:.3f}×{bold} [rounds {low:.3f}–{high:.3f}]"


def _by_cut(out: Path, trials: dict[str, TrialRecord], search: dict, scores: tuple[str, str], every_cut: bool) -> list[dict]:
    """One row per trained cut of the searched strategy (a no-truncation cut is FTL's trials): validation (and
    with ``--test-every-cut`` test) scores over the repeats, the standard error of the selected score (what
    ``--select smallest-within-noise`` uses), params and MACs."""
    no_truncation = search.get("no_truncation", [])
    selected = scores[1]
    rows = []
    searched = [r for r in trials.values() if r.strategy == search["strategy"]]
    ftl = [r for r in trials.values() if r.strategy == "ftl"]
    for cut in sorted({r.cut for r in searched} | set(no_truncation)):
        runs = ftl if cut in no_truncation else [r for r in searched if r.cut == cut]
        values = [r.val[selected] for r in runs]
        kept = [_predictions(out, r.trial, "val") for r in runs[:1]] if len(runs) == 1 else []
        rows.append({"cut": cut, "repeats": len(runs),
                     **{f"{split}_{m}": mean_std([getattr(r, split)[m] for r in runs]) for m in scores
                        for split in (("val", "test") if every_cut else ("val",))},
                     "val_se": standard_error([p for p in kept if p is not None], values, selected),
                     "params": runs[0].params, "macs": runs[0].macs, "no_truncation": cut in no_truncation})
    return rows


def _trial_row(record: TrialRecord, scores: tuple[str, str]) -> dict:
    return {"trial": record.trial, "strategy": record.strategy, "cut": record.cut, "seed": record.seed,
            **{f"val_{m}": record.val[m] for m in scores}, "epochs": record.epochs,
            "best_epoch": record.best_epoch, "seconds": record.seconds, "params": record.params}


def _pm(stat: dict) -> str:
    """``mean ± std`` over several repeats; one repeat shows its bootstrap interval (or says it is one seed),
    never ``± 0.0000``."""
    if "ci" in stat:
        return f"{stat['mean']:.4f} [{stat['ci'][0]:.4f}, {stat['ci'][1]:.4f}]"
    if stat["std"] == 0:
        return f"{stat['mean']:.4f} (one seed)"
    return f"{stat['mean']:.4f} ± {stat['std']:.4f}"


def _rule_sentence(report: dict) -> str | None:
    """Which ``--select`` rule chose, and the best-scoring cut, for the methods that train cut points."""
    if report.get("select") is None:
        return None
    best = report["best_cut"]
    same = "the same cut" if best == report["chosen_cut"] else f"cut {best}"
    return f"Selection rule **{report['select']}** chose cut {report['chosen_cut']}; the best-scoring cut was {same}."


def summary_lines(report: dict) -> list[str]:
    """The report's summary: what was searched, the chosen cut, the verdict against FTL, scores and cost."""
    chosen, ftl, ratios = report["chosen"], report["ftl"], report["ratios"]
    title = (f"{report['method']} search of {report['strategy']} cut points, {report['backbone']} on "
             f"{report['data']}: {report['trials']} trainings, {report['repeats']} repeat(s)")
    lines = [title, f"test split: {report['test_split']}",
             f"chosen cut: {report['chosen_cut']} ({report['reason']})", report["headline"].replace("**", "")]
    for model in (chosen, ftl):
        lines.append(f"{model['name']}: " + "; ".join(f"test {score_label(m)} {fmt_score(model['test'][m])}"
                                                      for m in report["scores"]))
        lines += [f"  flag {flag.replace('_', ' ')}: {text}" for flag, text in model["flags"].items()]
    lines.append(f"against FTL: params {ratios['params']:.3f}x ({chosen['params'] / 1e6:.2f} M vs "
                 f"{ftl['params'] / 1e6:.2f} M), MACs {ratios['macs']:.3f}x, CPU latency {_ratio_text(ratios, 'cpu')} "
                 f"({chosen['cpu_ms']:.2f} ms vs {ftl['cpu_ms']:.2f} ms side by side, batch "
                 f"{report['latency']['batch_size']}, {report['latency']['threads']} thread(s))")
    return lines


def _markdown(report: dict) -> str:
    chosen, ftl, ratios = report["chosen"], report["ftl"], report["ratios"]
    s = report["settings"]
    a, b = report["scores"]
    la, lb = score_label(a), score_label(b)
    samples = "all samples" if s["limit"] is None else f"at most {s['limit']} samples per split"
    setup = (f"Method **{report['method']}**, strategy **{report['strategy']}**, {report['repeats']} repeat(s) "
             f"(seeds {', '.join(map(str, report['seeds']))}), {report['trials']} trainings in "
             f"{report['train_seconds']:.0f} s. Image {input_side(report['backbone'], s['image_size'])}, at most {s['max_epochs']} epochs, batch "
             f"{s['batch_size']}, LR {s['lr']:g}, weights {s['weights']}, {samples}, split seed {s['split_seed']}, "
             f"device {s['device']}.")
    rule = _rule_sentence(report)
    lines = [f"# Cut-point search: {report['backbone']} on {report['data']}", "",
             f"**Test split:** {report['test_split']}.", "", f"**{report['headline']}**", "", setup, "",
             "## Chosen cut", "", f"**Cut {report['chosen_cut']}**: {report['reason']}.", "",
             *([rule, ""] if rule else []),
             *([f"**Ceiling:** {report['ceiling']['statement']}.", ""] if "ceiling" in report else []),
             "The choice uses validation scores only; test scores below are those of the two models, with 95 % "
             f"intervals (n = {chosen['seeds']} seed(s), N = {chosen['samples']} test samples).", "",
             f"| model | val {la} | val {lb} | test {la} [95 % CI] | test {lb} [95 % CI] | params (M) | MACs (G) | "
             "CPU ms | GPU ms |", "|---|---|---|---|---|---|---|---|---|"]
    for model in (chosen, ftl):
        lines.append(f"| {model['name']} | " + " | ".join(_pm(model["val"][m]) for m in (a, b)) + " | "
                     + " | ".join(fmt_score(model["test"][m]) for m in (a, b))
                     + f" | {model['params'] / 1e6:.2f} | {model['macs'] / 1e9:.3f} | {model['cpu_ms']:.2f} | "
                     + ("–" if model["gpu_ms"] is None else f"{model['gpu_ms']:.2f}") + " |")
    lat = report["latency"]
    against = (f"Against FTL: params **{ratios['params']:.3f}×**, MACs **{ratios['macs']:.3f}×**, CPU latency "
               f"{_ratio_text(ratios, 'cpu', '**')} (both models timed side by side in one process: "
               f"{lat['rounds']} interleaved rounds, {lat['repeats']} forward passes each, batch {lat['batch_size']}, "
               f"{lat['threads']} thread(s); median of the per-round ratios)"
               + ("." if lat["gpu"] is None else f"; GPU latency {_ratio_text(ratios, 'gpu', '**')} ({lat['gpu']})."))
    lines += ["", against, "", f"## Against FTL (margin δ = {report['margin']:g})", "",
              *evidence_lines(report["versus_ftl"]), "", reading(report["versus_ftl"]), ""]
    lines += flag_lines([(model["name"], model["flags"]) for model in (chosen, ftl)])
    lines += [f"## Validation {lb} by cut", "", f"![validation {lb} by cut](auprc_by_cut.png)", "",
              "| stage | cuts tried |", "|---|---|"]
    lines += [f"| {st['name']} | {', '.join(map(str, st['cuts']))} |" for st in report["stages"]]
    test = report["test_every_cut"]
    lines += ["", f"| cut | repeats | val {la} | val {lb} | SE of val {lb} |"
              + (f" test {la} | test {lb} |" if test else "") + " params (M) |",
              "|---|---|---|---|---|" + ("---|---|" if test else "") + "---|"]
    for r in report["by_cut"]:
        se = "–" if r["val_se"] is None else f"{r['val_se']:.4f}"
        cut = f"{r['cut']} (no truncation: FTL's network)" if r["no_truncation"] else str(r["cut"])
        lines.append(f"| {cut} | {r['repeats']} | {_pm(r['val_' + a])} | {_pm(r['val_' + b])} | {se} | "
                     + (f"{_pm(r['test_' + a])} | {_pm(r['test_' + b])} | " if test else "")
                     + f"{r['params'] / 1e6:.2f} |")
    lines += ["", "SE: standard error of the mean validation score, over the repeats (sample std / √n), or by "
                  "bootstrap over validation samples with one repeat."]
    if "statistic" in report:
        lines += ["", f"## Estimated score by cut: {report['statistic']}", "", "| cut | score |", "|---|---|"]
        lines += [f"| {row['cut']} | {row['score']:.4f} |" for row in report["scores_by_cut"]]
    if "svcca" in report:
        lines += ["", *_svcca_markdown(report["svcca"])]
    lines += ["", "## Trials", "", f"| trial | val {la} | val {lb} | epochs (best) | seconds |", "|---|---|---|---|---|"]
    lines += [f"| {t['trial']} | {t['val_' + a]:.4f} | {t['val_' + b]:.4f} | {t['epochs']} ({t['best_epoch']}"
              f"{', still improving' if t['best_epoch'] == t['epochs'] else ''}) | {t['seconds']:.1f} |"
              for t in report["trial_table"]]
    return "\n".join(lines) + "\n"


def _svcca_markdown(svcca: dict) -> list[str]:
    lines = ["## SVCCA: pretrained vs finetuned features against random features", "", svcca["rule"], "",
             "| cut | mean coefficient, pretrained vs finetuned | mean coefficient, random | overlap |",
             "|---|---|---|---|"]
    lines += [f"| {p['cut']} | {p['finetuned_mean']:.4f} | {p['random_mean']:.4f} | {p['overlap']:.3f} |"
              for p in svcca["per_cut"]]
    return lines


def _plot(report: dict, path: Path) -> None:
    """Validation score per cut with its noise band (± one standard error: over the repeats, or by bootstrap
    over validation samples with one repeat), FTL's band, the chosen and best-scoring cuts, and params per cut
    below; the legends sit outside the axes so that they hide no point."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["by_cut"]
    score = report["scores"][1]
    cuts = np.array([r["cut"] for r in rows])
    mean = np.array([r[f"val_{score}"]["mean"] for r in rows])
    se = np.array([np.nan if r["val_se"] is None else r["val_se"] for r in rows])
    ftl = report["ftl"]["val"][score]
    fig, (ax, low) = plt.subplots(2, 1, figsize=(8, 5.6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    ax.plot(cuts, mean, "o-", color="tab:blue", label=f"{report['strategy']} (mean over {report['repeats']} repeat(s))")
    ax.fill_between(cuts, mean - se, mean + se, color="tab:blue", alpha=0.2, label="± 1 standard error")
    ax.axhline(ftl["mean"], color="tab:red", ls="--", label="FTL")
    if ftl["std"] > 0:
        ax.axhspan(ftl["mean"] - ftl["std"], ftl["mean"] + ftl["std"], color="tab:red", alpha=0.1)
    chosen = next(r for r in rows if r["cut"] == report["chosen_cut"])
    ax.plot([report["chosen_cut"]], [chosen[f"val_{score}"]["mean"]], "*", ms=16, color="tab:green",
            label=f"chosen cut {report['chosen_cut']}" + (f" ({report['select']})" if report.get("select") else ""))
    if report.get("best_cut") is not None and report["best_cut"] != report["chosen_cut"]:
        top = next(r for r in rows if r["cut"] == report["best_cut"])
        ax.plot([report["best_cut"]], [top[f"val_{score}"]["mean"]], "D", ms=8, mfc="none", color="tab:purple",
                label=f"best-scoring cut {report['best_cut']}")
        if top["val_se"] is not None:
            ax.axhline(top[f"val_{score}"]["mean"] - top["val_se"], color="tab:purple", lw=0.8, ls=":",
                       label="best − 1 SE")
    ax.set(ylabel=f"validation {score_label(score)}", title=f"{report['backbone']}: {report['method']} search")
    handles, labels = ax.get_legend_handles_labels()
    if "svcca" in report:
        twin = ax.twinx()
        per_cut = report["svcca"]["per_cut"]
        twin.plot([p["cut"] for p in per_cut], [p["overlap"] for p in per_cut], "s:", color="tab:gray",
                  label="SVCCA overlap with random")
        twin.axhline(report["svcca"]["threshold"], color="tab:gray", lw=0.8)
        twin.set(ylabel="overlap", ylim=(0, 1.05))
        more = twin.get_legend_handles_labels()
        handles, labels = handles + more[0], labels + more[1]
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02 if "svcca" not in report else 1.12, 1),
              fontsize=8, borderaxespad=0)
    low.bar(cuts, [r["params"] / 1e6 for r in rows], color="tab:blue", alpha=0.6)
    low.axhline(report["ftl"]["params"] / 1e6, color="tab:red", ls="--")
    low.set(xlabel="cut point k", ylabel="params (M)", yscale="log")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight")
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
