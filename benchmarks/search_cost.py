"""Search cost: every search method against the exhaustive yardstick, on several real datasets (SPEC §10).

Per dataset, the yardstick trains every cut point and FTL with every repeat and scores validation *and* test
(``--test-every-cut``'s curve). Every method then runs its own choice on a session whose trainings are read
from the yardstick (CPU training is deterministic: the same config and seed train the same model), so its
cost is counted, not paid again: trainings = the distinct trials it asks for plus the final ones, wall time =
its own computation (SVCCA, features, estimators; measured) + the recorded seconds of those trainings.

Resumable: trials and method results are saved as they finish; killed, the same command continues. The
table is drawn from the saved JSON only (``--redraw``).

    OMP_NUM_THREADS=1 python benchmarks/search_cost.py --data-root ../shared/data
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from benchmarks.records import keep, pm
from truncatedtl.backbones import load_backbone
from truncatedtl.engine import RunConfig, prepare
from truncatedtl.files import write_json, write_text
from truncatedtl.record import TrialRecord
from truncatedtl.search import METHODS, SearchSettings, Trial, TrialStore, run_trials
from truncatedtl.search.session import SELECT_RULES, CutScore, Session, best, select
from truncatedtl.search.two_stage import neighbours

ROOT = Path(__file__).resolve().parent.parent


def tb_manifest(images: Path) -> Path:
    """A CSV manifest of cxr_lung_seg's tuberculosis side labels (trailing ``_0``/``_1`` of each file stem),
    written to a fixed place in the temporary directory so that a resumed run sees the same data path."""
    path = Path(tempfile.gettempdir()) / "ttl-search-cost" / "cxr_lung_seg_tb.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for image in sorted(images.glob("*.png")):
        flag = image.stem.rsplit("_", 1)[-1]
        if flag not in ("0", "1"):
            raise ValueError(f"{image}: file stem does not end in _0 or _1 (the TB label)")
        rows.append({"path": str(image.resolve()), "label": "tb" if flag == "1" else "normal"})
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["path", "label"])
        writer.writeheader()
        writer.writerows(rows)
    return path


def datasets(root: Path) -> dict[str, str]:
    """Name → the ``--data`` value of each real dataset."""
    return {"pneumoniamnist": str(root / "pneumoniamnist" / "pneumoniamnist.npz"),
            "chest_xray_pneumonia": str(root / "chest_xray_pneumonia"),
            "cxr_lung_seg_tb": str(tb_manifest(root / "cxr_lung_seg" / "images")),
            "vesselmnist3d": str(root / "vesselmnist3d" / "vesselmnist3d.npz")}


def yardstick(base: RunConfig, repeats: int, out: Path, progress=print, workers: int = 1) -> TrialStore:
    """Every cut point of the TTL strategy and FTL, ``repeats`` seeds each, validation and test scored
    (``workers`` trials at once in local processes)."""
    backbone = load_backbone(base.backbone, "none")
    identity = {**{k: v for k, v in asdict(base).items() if k not in ("seed", "strategy", "cut")},
                "yardstick": "every cut point, test scored", "repeats": repeats}
    store = TrialStore(out, identity)
    # Seed by seed, so that a run stopped early leaves whole curves of fewer seeds.
    trials = [t for s in range(repeats)
              for t in [Trial("ftl", backbone.last_cut, s), *(Trial("ttl", p.index, s) for p in backbone.cut_points)]]
    run_trials(trials, base, store, progress=progress, evaluate_test=True, workers=workers)
    return store


# Every method, and the svcca method under both rules.
VARIANTS = {"exhaustive": ("exhaustive", {}), "two-stage": ("two-stage", {}),
            "svcca last-before": ("svcca", {"svcca_rule": "last-before"}),
            "svcca first-overlap": ("svcca", {"svcca_rule": "first-overlap"}),
            "logme": ("logme", {}), "hscore": ("hscore", {}), "pretrained-probe": ("pretrained-probe", {}),
            "probe": ("probe", {})}
USES_FTL = ("svcca", "probe")  # methods whose choice reads the FTL model of seed 0


class Replay:
    """A session's trainings read from the yardstick instead of run; remembers every distinct trial asked."""

    def __init__(self, yardstick: TrialStore) -> None:
        self.yardstick = yardstick
        self.asked: dict[str, TrialRecord] = {}

    def __call__(self, trials: list[Trial]) -> list[TrialRecord]:
        records = []
        for trial in trials:
            record = self.yardstick.get(trial)
            if record is None:
                raise ValueError(f"the yardstick in {self.yardstick.root} lacks trial {trial.key}")
            record = replace(record, checkpoint=str(self.yardstick.root / record.checkpoint))
            self.asked[trial.key] = record
            records.append(record)
        return records


def run_variant(name: str, yardstick: TrialStore, base: RunConfig, repeats: int, prepared) -> dict:
    """One method's choice on the replayed yardstick: chosen cut, scores, trainings and wall time."""
    method, extra = VARIANTS[name]
    # Each method takes its own best-scoring cut (``--select best``): the table compares the methods' rankings;
    # the two ``--select`` rules are compared on the same records in the page's selection section.
    settings = SearchSettings(method=method, repeats=repeats, select="best", **extra)
    replay = Replay(yardstick)
    with tempfile.TemporaryDirectory() as scratch:
        session = Session(base, settings, TrialStore(Path(scratch), {"method": name}), prepared, replay)
        start = time.perf_counter()
        choice = METHODS[method](session, settings)
        compute = time.perf_counter() - start
    final = session.stages[-1]
    separate_final = final.cuts == [choice.cut] and final.name.startswith(("step 5", "train at"))
    searched = [k for k in replay.asked if not k.startswith("ftl-")]
    return {"variant": name, "method": method, "settings": asdict(settings), "chosen_cut": choice.cut,
            "reason": choice.reason, "scores_by_cut": {str(k): v for k, v in choice.scores_by_cut.items()},
            "trainings": len(replay.asked),
            "trainings_to_choose": len(searched) - (repeats if separate_final else 0) + (method in USES_FTL),
            "compute_s": round(compute, 1),
            "wall_s": round(compute + sum(r.seconds for r in replay.asked.values()), 1)}


def spearman(x: list[float], y: list[float]) -> float:
    """Spearman rank correlation (ties get their mean rank); NaN for fewer than 3 points or a constant side."""
    def ranks(v: list[float]) -> np.ndarray:
        v = np.asarray(v, dtype=float)
        order = v.argsort()
        r = np.empty(len(v))
        r[order] = np.arange(len(v))
        return np.array([r[v == value].mean() for value in v])

    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(np.corrcoef(ranks(x), ranks(y))[0, 1])


FIGURES = ("search_cost_curves.png",)
FOLDER = "search_cost"
# Datasets in page order (records folder names).
ORDER = ("pneumoniamnist", "chest_xray_pneumonia", "cxr_lung_seg_tb", "vesselmnist3d")
WITHIN = 0.01  # the goal: within this much validation AUPRC of the exhaustive best


@dataclass
class Curve:
    """A dataset's yardstick: per TTL cut, mean and population std over the seeds of val and test AUPRC."""

    name: str
    identity: dict
    records: list[dict]
    val: dict[int, float]
    val_std: dict[int, float]
    test: dict[int, float]
    test_std: dict[int, float]
    block_ends: list[int]

    @property
    def best(self) -> int:
        return max(self.val, key=lambda k: (self.val[k], -k))

    def gap(self, cut: int, split: str = "val") -> float:
        scores = self.val if split == "val" else self.test
        return scores[cut] - scores[self.best]

    def ftl(self, split: str) -> list[float]:
        return [r[split]["auprc"] for r in self.records if r["strategy"] == "ftl"]

    @property
    def seeds(self) -> int:
        """Seeds trained at every cut (fewer than the planned repeats while a yardstick is unfinished)."""
        return min(sum(r["cut"] == k and r["strategy"] == "ttl" for r in self.records) for k in self.val)

    def count(self, cut: int) -> int:
        return sum(r["cut"] == cut and r["strategy"] == "ttl" for r in self.records)

    @property
    def seeds_note(self) -> str:
        planned = self.identity["repeats"]
        if self.seeds == planned:
            return f"{planned} seeds"
        return (f"**unfinished: {len(self.records)} of {planned * (len(self.val) + 1)} trainings, "
                f"{self.seeds}–{max(map(self.count, self.val))} of {planned} planned seeds per cut**")


def read_curve(folder: Path) -> Curve:
    identity = json.loads((folder / "store.json").read_text())["identity"]
    records = [json.loads(p.read_text()) for p in sorted((folder / "trials").glob("*.json"))]
    cuts = sorted({r["cut"] for r in records if r["strategy"] == "ttl"})
    scores = {split: {k: [r[split]["auprc"] for r in records if r["strategy"] == "ttl" and r["cut"] == k]
                      for k in cuts} for split in ("val", "test")}
    return Curve(folder.name, identity, records,
                 {k: float(np.mean(v)) for k, v in scores["val"].items()},
                 {k: float(np.std(v)) for k, v in scores["val"].items()},
                 {k: float(np.mean(v)) for k, v in scores["test"].items()},
                 {k: float(np.std(v)) for k, v in scores["test"].items()},
                 list(load_backbone(identity["backbone"], "none").block_ends))


def methods(folder: Path) -> list[dict]:
    if not (folder / "methods").is_dir():
        return []
    paths = sorted((folder / "methods").glob("*.json"), key=lambda p: list(VARIANTS).index(p.stem.replace("_", " ")))
    return [json.loads(p.read_text()) for p in paths]


def rank_correlation(method: dict, curve: Curve) -> tuple[float, int]:
    scored = {int(k): v for k, v in method["scores_by_cut"].items()}
    return spearman(list(scored.values()), [curve.val[k] for k in scored]), len(scored)


def _rho(value: float) -> str:
    return "–" if np.isnan(value) else f"{value:+.2f}"


def middle_boundary(curve: Curve) -> int:
    """The middle block boundary (the 4th of EfficientNet-Lite0's 7)."""
    return curve.block_ends[(len(curve.block_ends) - 1) // 2]


def dataset_section(curve: Curve, folder: Path) -> str:
    """Settings, the methods table and the per-cut curve (mean ± seed std) of one dataset."""
    i, samples = curve.identity, curve.records[0]["samples"]
    lr = "the recipe's LR" if i["lr"] is None else f"LR {i['lr']:g}"
    recipe = i.get("recipe") or "paper-2d"
    lines = [(f"{i['backbone']} (weights {i['weights']}), image {i['image_size']}"
              f"{'³' if '@3d' in i['backbone'] else '²'}, {samples['train']}/{samples['val']}/{samples['test']} "
              f"train/val/test (at most {i['limit']} per split, stratified), at most {i['max_epochs']} epochs, "
              f"recipe {recipe}, {lr}, batch {i['batch_size']}, {curve.seeds_note}. Exhaustive best cut by "
              f"validation AUPRC: **{curve.best}** (val {curve.val[curve.best]:.4f} ± "
              f"{curve.val_std[curve.best]:.4f}, test {curve.test[curve.best]:.4f}); FTL val "
              f"{pm(curve.ftl('val'), 4)}, test {pm(curve.ftl('test'), 4)}."), "",
             "| method | trainings (to choose) | wall time (min) | Spearman vs exhaustive val AUPRC | chosen cut "
             "| val AUPRC gap | test AUPRC gap | run |", "|---|---|---|---|---|---|---|---|"]
    for m in methods(folder):
        rho, n = rank_correlation(m, curve)
        cut = m["chosen_cut"]
        lines.append(f"| {m['variant']} | {m['trainings']} ({m['trainings_to_choose']}) | {m['wall_s'] / 60:.1f} | "
                     f"{_rho(rho)} ({n} cuts) | {cut} | {curve.gap(cut):+.4f} | {curve.gap(cut, 'test'):+.4f} | "
                     f"*CPU-small* |")
    middle = middle_boundary(curve)
    lines.append(f"| always cut {middle} (middle block boundary) | {curve.seeds} (0) | – | – | {middle} | "
                 f"{curve.gap(middle):+.4f} | {curve.gap(middle, 'test'):+.4f} | *CPU-small* |")
    cuts = list(curve.val)
    lines += ["", "| cut | " + " | ".join(map(str, cuts)) + " |", "|---|" + "---|" * len(cuts),
              "| val AUPRC | " + " | ".join(f"{curve.val[k]:.3f}" for k in cuts) + " |",
              "| ± seed std | " + " | ".join(f"{curve.val_std[k]:.3f}" for k in cuts) + " |",
              "| test AUPRC | " + " | ".join(f"{curve.test[k]:.3f}" for k in cuts) + " |"]
    if curve.seeds != curve.identity["repeats"]:
        lines.append("| seeds | " + " | ".join(str(curve.count(k)) for k in cuts) + " |")
    return "\n".join(lines)


def _policies(curves: list[Curve], folders: list[Path]) -> dict[str, dict]:
    """Every method and every constant cut → its chosen cut, val gap and rank correlation per dataset."""
    policies: dict[str, dict] = {}
    for curve, folder in zip(curves, folders):
        for m in methods(folder):
            entry = policies.setdefault(m["variant"], {"kind": "method", "cuts": [], "gaps": [], "rho": [],
                                                        "trainings": []})
            entry["trainings"].append(m["trainings_to_choose"])
            entry["cuts"].append(m["chosen_cut"])
            entry["gaps"].append(curve.gap(m["chosen_cut"]))
            entry["rho"].append(rank_correlation(m, curve)[0])
    cuts = sorted(set.intersection(*(set(c.val) for c in curves)))
    for k in cuts:
        policies[f"always cut {k}"] = {"kind": "constant", "cuts": [k] * len(curves),
                                       "gaps": [c.gap(k) for c in curves], "rho": [], "trainings": [0]}
    return policies


def summary(curves: list[Curve], folders: list[Path]) -> str:
    """Methods against constants over every dataset: val gaps, their mean and worst, rank correlations."""
    policies = _policies(curves, folders)
    constants = {k: v for k, v in policies.items() if v["kind"] == "constant"}
    best_constant = max(constants, key=lambda k: (np.mean(constants[k]["gaps"]), min(constants[k]["gaps"])))
    middle = f"always cut {middle_boundary(curves[0])}"
    names = " / ".join(c.name for c in curves)
    lines = [f"Validation AUPRC gap to the exhaustive best per dataset ({names}); the noise band is the seed std of "
             f"the exhaustive best cut's val AUPRC ({' / '.join(f'{c.val_std[c.best]:.3f}' for c in curves)}).", "",
             "| policy | trainings its choice needs | cuts chosen | val AUPRC gaps | mean gap | worst gap | "
             f"within {WITHIN} on | Spearman per dataset |", "|---|---|---|---|---|---|---|---|"]
    shown = [k for k, v in policies.items() if v["kind"] == "method"] + [best_constant] + \
        ([middle] if middle != best_constant else [])
    for name in shown:
        p = policies[name]
        label = name + (" (best constant, chosen in hindsight)" if name == best_constant else "") + \
            (" (middle block boundary)" if name == middle else "")
        within = sum(g >= -WITHIN for g in p["gaps"])
        trainings = " / ".join(map(str, p["trainings"])) if len(set(p["trainings"])) > 1 else p["trainings"][0]
        lines.append(f"| {label} | {trainings} | {' / '.join(map(str, p['cuts']))} | "
                     f"{' / '.join(f'{g:+.3f}' for g in p['gaps'])} | {np.mean(p['gaps']):+.3f} | "
                     f"{min(p['gaps']):+.3f} | {within} of {len(curves)} | "
                     f"{' / '.join(_rho(r) for r in p['rho']) or '–'} |")
    ranked = sorted(constants, key=lambda k: -np.mean(constants[k]["gaps"]))
    lines += ["", "Every constant cut, by mean val AUPRC gap over the datasets: " +
              ", ".join(f"{k.split()[-1]} ({np.mean(constants[k]['gaps']):+.3f})" for k in ranked) + "."]
    return "\n".join(lines)


def per_cut(records: list[dict], split: str) -> dict[int, float]:
    """Mean ``split`` AUPRC over the repeats at every TTL cut of the yardstick."""
    cuts = sorted({r["cut"] for r in records if r["strategy"] == "ttl"})
    return {k: float(np.mean([r[split]["auprc"] for r in records if r["strategy"] == "ttl" and r["cut"] == k]))
            for k in cuts}



def rule_choices(records: list[dict], backbone) -> dict[tuple[str, str], tuple[int, int]]:
    """(method, rule) → (chosen cut, best-scoring cut) of exhaustive and two-stage (radius 2) under each
    ``--select`` rule, replayed on the yardstick's records: validation AUPRC per cut, its standard error over the
    seeds (sample std / √n; the committed records keep no per-sample predictions)."""
    ttl = [r for r in records if r["strategy"] == "ttl"]

    def score(cut: int) -> CutScore:
        values = [r["val"]["auprc"] for r in ttl if r["cut"] == cut]
        return CutScore(cut, float(np.mean(values)), float(np.std(values)),
                        float(np.std(values, ddof=1) / np.sqrt(len(values))))

    cuts = sorted({r["cut"] for r in ttl})
    stage1 = [score(k) for k in backbone.block_ends if k in cuts]
    near = neighbours(backbone, best(stage1).cut, 2, cuts)
    scored = {"exhaustive": [score(k) for k in cuts], "two-stage": stage1 + [score(k) for k in near]}
    return {(method, rule): (select(scores, rule)[0].cut, best(scores).cut)
            for method, scores in scored.items() for rule in SELECT_RULES}


def selection_section(folders: list[Path]) -> list[str]:
    """Both ``--select`` rules side by side on every dataset's yardstick: the chosen cut, its params against the
    exhaustive best's, and its validation and test AUPRC gaps to the exhaustive best (by validation AUPRC)."""
    lines = ["## Selection rules: best against smallest-within-noise", "",
             "Exhaustive and two-stage searches replayed on the same records under each `--select` rule. "
             "`smallest-within-noise` takes the smallest cut whose mean validation AUPRC lies within one standard "
             "error of the best cut's (standard error over the seeds, sample std / √n: the committed records keep "
             "no per-sample predictions, so no bootstrap over validation samples here). Params are those of the "
             "chosen TTL model; gaps are against the exhaustive best cut by validation AUPRC.", "",
             "| dataset | method | rule | chosen cut (best-scoring) | params (M) | params vs exhaustive best | "
             "val AUPRC gap | test AUPRC gap | test AUPRC vs FTL |", "|---|---|---|---|---|---|---|---|---|"]
    totals: dict[str, list[tuple[float, float]]] = {rule: [] for rule in SELECT_RULES}
    for folder in folders:
        records = [json.loads(p.read_text()) for p in sorted((folder / "trials").glob("*.json"))]
        identity = json.loads((folder / "store.json").read_text())["identity"]
        val, test = per_cut(records, "val"), per_cut(records, "test")
        params = {r["cut"]: r["params"] for r in records if r["strategy"] == "ttl"}
        top = max(val, key=lambda k: (val[k], -k))
        ftl = float(np.mean([r["test"]["auprc"] for r in records if r["strategy"] == "ftl"]))
        for (method, rule), (cut, scored_best) in rule_choices(records, load_backbone(identity["backbone"], "none")).items():
            totals[rule].append((params[cut] / params[top], test[cut] - test[top]))
            lines.append(f"| {folder.name} | {method} | {rule} | {cut} ({scored_best}) | {params[cut] / 1e6:.2f} | "
                         f"{params[cut] / params[top]:.2f}× | {val[cut] - val[top]:+.4f} | {test[cut] - test[top]:+.4f} | "
                         f"{test[cut] - ftl:+.4f} |")
    lines += ["", "| rule | median params vs exhaustive best | mean test AUPRC gap | worst test AUPRC gap |",
              "|---|---|---|---|"]
    for rule, pairs in totals.items():
        ratios, gaps = zip(*pairs)
        lines.append(f"| {rule} | {np.median(ratios):.2f}× | {np.mean(gaps):+.4f} | {min(gaps):+.4f} |")
    return lines


def _folders(results: Path) -> list[Path]:
    return [results / FOLDER / name for name in ORDER if (results / FOLDER / name / "store.json").is_file()]


def draw_page(results: Path) -> dict[str, str]:
    """The drawn blocks of docs/results/search_cost.md: one section per dataset and the summary (over the
    datasets whose methods were run on a finished yardstick)."""
    folders = _folders(results)
    curves = [read_curve(f) for f in folders]
    done = [(c, f) for c, f in zip(curves, folders) if methods(f) and c.seeds == c.identity["repeats"]]
    missing = {f"dataset-{name}": "No records yet." for name in ORDER if name not in {f.name for f in folders}}
    return {**{f"dataset-{c.name}": dataset_section(c, f) for c, f in zip(curves, folders)}, **missing,
            "summary": summary([c for c, _ in done], [f for _, f in done]),
            "selection": "\n".join(selection_section([f for c, f in done]))}


def draw_files(results: Path, out: Path) -> list[Path]:
    """docs/img/search_cost_curves.png: per dataset, val AUPRC per cut with its seed-std band, test AUPRC, FTL's
    val AUPRC and the exhaustive best cut (the methods' choices are in the page's tables)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from truncatedtl.files import atomic_path

    folders = _folders(results)
    figure = Figure(figsize=(11, 2.6 * ((len(folders) + 1) // 2)))
    FigureCanvasAgg(figure)
    for index, folder in enumerate(folders):
        curve = read_curve(folder)
        ax = figure.add_subplot((len(folders) + 1) // 2, 2, index + 1)
        cuts = np.array(list(curve.val))
        mean, std = np.array(list(curve.val.values())), np.array(list(curve.val_std.values()))
        ax.fill_between(cuts, mean - std, mean + std, color="tab:blue", alpha=0.2, label="val ± seed std")
        ax.plot(cuts, mean, "-o", color="tab:blue", markersize=3, label="val AUPRC (mean)")
        ax.plot(cuts, list(curve.test.values()), "--", color="tab:orange", label="test AUPRC (mean)")
        ax.axhline(np.mean(curve.ftl("val")), color="0.4", linestyle=":", label="FTL val")
        ax.plot([curve.best], [curve.val[curve.best]], "*", color="tab:red", markersize=9, label="exhaustive best")
        most = max(map(curve.count, curve.val))
        seeds = f"{most} seeds" if curve.seeds == most else f"unfinished: {curve.seeds}–{most} seeds per cut"
        ax.set_title(f"{curve.name} ({seeds})", fontsize=9)
        ax.set_xticks(cuts)
        ax.tick_params(labelsize=7)
        ax.set_xlabel("cut k", fontsize=8)
        ax.set_ylabel("AUPRC", fontsize=8)
        if index == 0:
            ax.legend(fontsize=6, loc="lower right")
    figure.tight_layout()
    path = Path(out) / "img" / FIGURES[0]
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=110)
    return [path]


def mirror(out: Path, records: Path, name: str) -> None:
    """Keep a dataset's yardstick trial JSONs, its store identity and the method results (no checkpoints;
    paths relative to the data root)."""
    target = records / name
    shutil.rmtree(target, ignore_errors=True)
    keep(target / "store.json", json.loads((out / name / "yardstick" / "store.json").read_text()))
    for path in sorted((out / name / "yardstick" / "trials").glob("*.json")):
        keep(target / "trials" / path.name, json.loads(path.read_text()))
    for path in sorted((out / name / "methods").glob("*.json")):
        keep(target / "methods" / path.name, json.loads(path.read_text()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-root", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--datasets", default="pneumoniamnist,chest_xray_pneumonia,cxr_lung_seg_tb")
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--weights", default="pretrained")
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--max-epochs", type=int, default=3)
    parser.add_argument("--lr", type=lambda v: None if v == "recipe" else float(v), default=1e-3,
                        help="learning rate, or 'recipe' for the recipe's default")
    parser.add_argument("--recipe", default=None, help="training recipe (default: the data's: paper-2d/paper-3d)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "search_cost")
    parser.add_argument("--records", type=Path, default=ROOT / "docs" / "results" / "search_cost")
    parser.add_argument("--markdown", type=Path, help="also write the page redrawn from --records/.. here "
                        "(python -m benchmarks redraw draws docs/results/search_cost.md itself)")
    parser.add_argument("--workers", type=int, default=1, help="yardstick trials trained at once, each in its "
                        "own process with an equal share of the threads")
    parser.add_argument("--methods", action="store_true", help="also run every method on the yardstick")
    parser.add_argument("--redraw", action="store_true", help="run nothing; only write --markdown")
    args = parser.parse_args()
    if not args.redraw:
        paths = datasets(args.data_root)
        for name in args.datasets.split(","):
            base = RunConfig(data=paths[name], backbone=args.backbone, strategy="ttl", image_size=args.image_size,
                             max_epochs=args.max_epochs, lr=args.lr, batch_size=args.batch_size, limit=args.limit,
                             weights=args.weights, recipe=args.recipe, device="cpu")
            store = yardstick(base, args.repeats, args.out / name / "yardstick",
                              progress=lambda m, name=name: print(f"[{name}] {m}", flush=True), workers=args.workers)
            if not args.methods:
                continue
            prepared = prepare(base)
            for variant in VARIANTS:
                path = args.out / name / "methods" / f"{variant.replace(' ', '_')}.json"
                if not path.is_file():
                    write_json(path, run_variant(variant, store, base, args.repeats, prepared))
                print(f"[{name}] {variant}: {json.loads(path.read_text())['chosen_cut']}", flush=True)
            mirror(args.out, args.records, name)
    if args.markdown:
        from benchmarks.redraw import fill

        page = ROOT / "docs" / "results" / "search_cost.md"
        write_text(args.markdown, fill(page.read_text(), draw_page(args.records.parent), page.name))
        print(f"written to {args.markdown}")


if __name__ == "__main__":
    main()
