"""The model card written beside every export (``MODEL_CARD.md``): what the model is, what it costs next to
full finetuning, what it was trained on and how, how well it did (with intervals where the run has them), its
verdict against FTL where a comparison exists, its known limits, and an intended-use section left to its
owner. Every statement comes from the run's records (or, for the data and the FTL counterpart's size, from
re-reading them); what is not known is said to be unknown, never guessed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..analysis.complexity import count_macs, count_params
from ..backbones import Backbone, load_backbone
from ..data import fingerprint
from ..engine import RunConfig
from ..engine.run import read_run
from ..files import write_text
from ..record import TrialRecord
from ..spec import HeadSpec
from ..tasks import build_network, get_task, resolve_spec, score_label
from .metadata import Metadata

CARD = "MODEL_CARD.md"
NOT_COMPUTED = "not computed"
TO_FILL = "**TO BE FILLED IN by the model's owner** (the tool does not infer it)"
# How far up from a run directory a compare/search directory holding it is looked for.
REPORT_DEPTH = 2


def _fmt(value: float | None, digits: int = 4) -> str:
    return NOT_COMPUTED if value is None else f"{value:.{digits}f}"


def ftl_counterpart(config: RunConfig, backbone: Backbone, num_classes: int) -> tuple[int, int]:
    """Parameters and MACs of the full-finetuning network of the same backbone, head and input size."""
    head = HeadSpec(num_classes, config.image_size, config.pool, config.hidden)
    model = build_network(resolve_spec(backbone, "ftl", None, head, config.task), backbone)
    return count_params(model), count_macs(model, backbone.input_shape(config.image_size))


def containing_report(run_dir: Path) -> tuple[Path, dict] | None:
    """The ``report.json`` of a compare or search directory the run lives in (its parent or grandparent)."""
    for folder in list(Path(run_dir).resolve().parents)[:REPORT_DEPTH]:
        path = folder / "report.json"
        if path.is_file():
            try:
                return path, json.loads(path.read_text())
            except (OSError, ValueError):
                return None
    return None


def _cost(config: RunConfig, result: TrialRecord, backbone: Backbone, report: dict | None) -> list[str]:
    lines = ["| | this model | FTL | ratio |", "|---|---|---|---|"]
    try:
        ftl_params, ftl_macs = ftl_counterpart(config, backbone, len(result.classes))
    except (ValueError, RuntimeError) as err:
        return [f"Parameters {result.params / 1e6:.2f} M, MACs {result.macs / 1e9:.3f} G; the FTL "
                f"counterpart could not be built ({err}), so no ratio."]
    lines.append(f"| parameters | {result.params / 1e6:.2f} M | {ftl_params / 1e6:.2f} M | "
                 f"{result.params / ftl_params:.2f} |")
    lines.append(f"| MACs (one input) | {result.macs / 1e9:.3f} G | {ftl_macs / 1e9:.3f} G | "
                 f"{result.macs / ftl_macs:.2f} |")
    latency = (report or {}).get("chosen"), (report or {}).get("ftl")
    if (all(isinstance(x, dict) and x.get("cpu_ms") for x in latency)
            and (latency[0].get("strategy"), latency[0].get("cut")) == (config.strategy, result.cut)):
        lines.append(f"| CPU latency (batch 1) | {latency[0]['cpu_ms']:.2f} ms | {latency[1]['cpu_ms']:.2f} ms | "
                     f"{latency[0]['cpu_ms'] / latency[1]['cpu_ms']:.2f} |")
    else:
        lines.append(f"| CPU latency | {NOT_COMPUTED} | {NOT_COMPUTED} | – |")
    lines += ["", "The FTL network is the same backbone whole, with the same head, at the same input size (built to "
                  "count it; not trained). Latency is given only where a comparison measured both models; `ttl "
                  "profile` measures one."]
    return lines


def _data(config: RunConfig, result: TrialRecord) -> list[str]:
    samples = result.samples
    lines = [f"- Path as given: `{config.data}`",
             f"- Split sizes: {', '.join(f'{k} {v}' for k, v in samples.items()) or NOT_COMPUTED}"
             f" (split seed {config.split_seed}{f', at most {config.limit} per split' if config.limit else ''})"]
    try:
        data = get_task(config.task).load_data(config)
        lines.append(f"- Class balance: {_balance(data, result.classes)}")
        found = fingerprint(data)
        digests = ", ".join(f"{k} `{v['digest'][:16]}`" for k, v in found["splits"].items())
        lines.append(f"- Fingerprint ({found['method']}): {digests}")
    except (OSError, ValueError) as err:  # the data is not where the run read it (another machine, moved)
        lines.append(f"- Class balance and fingerprint: {NOT_COMPUTED} (the data cannot be read from here: {err})")
    lines += [f"- Note: {note}" for note in result.notes]
    return lines


def _balance(data, classes: list[str]) -> str:
    parts = []
    for split, samples in data.splits().items():
        labels = np.asarray(getattr(samples, "labels", []))
        if labels.ndim == 1 and labels.size and np.issubdtype(labels.dtype, np.integer):
            counts = np.bincount(labels.astype(int), minlength=len(classes))
        elif labels.ndim == 2:
            counts = (labels == 1).sum(0)  # positives per label
        else:
            return f"{NOT_COMPUTED} (no per-sample class labels: {type(samples).__name__})"
        parts.append(f"{split} " + " / ".join(f"{c} {int(n)}" for c, n in zip(classes, counts, strict=False)))
    return "; ".join(parts)


def _scores(result: TrialRecord) -> list[str]:
    lines = ["| split | score | value | 95 % interval |", "|---|---|---|---|"]
    for split in ("val", "test"):
        scores, intervals = getattr(result, split), getattr(result, f"{split}_ci") or {}
        if not scores:
            lines.append(f"| {split} | – | {NOT_COMPUTED} (the split was not scored) | – |")
            continue
        for metric, value in scores.items():
            if metric == "loss":
                continue
            ci = intervals.get(metric)
            interval = f"{ci[0]:.4f} – {ci[1]:.4f}" if ci else NOT_COMPUTED
            lines.append(f"| {split} | {score_label(metric)} | {value:.4f} | {interval} |")
    return lines


def _verdict(config: RunConfig, cut: int, run_dir: Path) -> list[str]:
    if config.strategy == "ftl":
        return ["This model is the FTL model itself: there is nothing to compare it against."]
    found = containing_report(run_dir)
    if found is None:
        return ["None: this run is not part of a `ttl compare` or `ttl search` directory, so no paired comparison "
                "with FTL exists for it."]
    path, report = found
    rows = [v for v in report.get("versus_ftl") or [] if v.get("strategy") == config.strategy and v.get("cut") == cut]
    if not rows:
        return [f"None: `{path.parent.name}/report.json` holds no comparison of {config.strategy} at cut {cut} "
                f"with FTL."]
    lines = [f"From `{path.parent.name}/report.json` (paired difference to FTL on the test split):", "",
             "| score | difference | 95 % interval | p | margin | verdict |", "|---|---|---|---|---|---|"]
    for v in rows:
        ci = v.get("ci") or [None, None]
        p = "–" if v.get("p_value") is None else f"{v['p_value']:.3g}"
        lines.append(f"| {score_label(v.get('metric'))} | {_fmt(v.get('difference'))} | "
                     f"{_fmt(ci[0])} – {_fmt(ci[1])} | {p} | {v.get('margin')} | **{v.get('verdict')}** |")
    return lines


def _limits(config: RunConfig, result: TrialRecord, metadata: Metadata) -> list[str]:
    side = "³" if metadata.spatial_dims == 3 else "²"
    lines = [f"- Trained on inputs of {config.image_size}{side}: every input is resized to that size, so detail finer "
             f"than the resized grid is lost, and other sizes were not tested.",
             f"- One site's data: trained, validated and tested on one dataset (`{config.data}`); how it performs "
             f"on other sites, devices or populations is not known."]
    if config.limit:
        lines.append(f"- A reduced dataset: at most {config.limit} samples per split.")
    if config.weights == "none":
        lines.append("- Trained from random initialisation (no pretrained weights).")
    if result.best_epoch == result.epochs:
        lines.append("- Its best validation score came at its last epoch: training may not have converged.")
    return lines


def model_card(run_dir: Path, metadata: Metadata, files: list[Path]) -> str:
    """The card's Markdown for the run in ``run_dir`` exported as ``files``."""
    run_dir = Path(run_dir)
    config, _, result = read_run(run_dir)
    backbone = load_backbone(config.backbone, "none")
    cut = result.cut
    point = backbone.cut_points[cut]
    found = containing_report(run_dir)
    head = f"average pool + {'MLP (' + str(config.hidden) + ' hidden)' if config.hidden else 'linear'}"
    lines = [
        f"# Model card: {config.backbone}, {config.strategy} at cut {cut}", "",
        f"Exported from run `{run_dir.name}`: {', '.join(f'`{f.name}`' for f in files)}.", "",
        "## Model", "",
        f"- Backbone: `{config.backbone}` ({metadata.spatial_dims}D, weights: {config.weights})",
        f"- Strategy: `{config.strategy}`",
        f"- Cut: k = {cut} of {backbone.last_cut} (`{point.name}`, block {point.block}"
        f"{', a block boundary' if point.block_end else ''}; {point.channels} channels, stride {point.stride})",
        f"- Head: {head if config.pool else 'flattened feature map + linear'}",
        f"- Task: {result.task}; classes: {', '.join(result.classes)}",
        f"- Input: {metadata.input_name} {list(metadata.input_shape)} per item; output: {metadata.output}", "",
        "## Cost against full finetuning (FTL)", "", *_cost(config, result, backbone, found[1] if found else None),
        "", "## Data", "", *_data(config, result), "",
        "## Preprocessing and intensity policy", "",
        f"- Intensity policy: `{config.intensity}`",
        f"- Image size {config.image_size}; mean {list(metadata.mean)}, std {list(metadata.std)}; "
        f"{metadata.in_chans} input channels",
        f"- Steps: {metadata.preprocessing}", "",
        "## Training recipe", "",
        f"- Recipe `{result.recipe}`, learning rate {result.lr}, batch {config.batch_size}, at most "
        f"{config.max_epochs} epochs (ran {result.epochs}, best at epoch {result.best_epoch}), "
        f"checkpoint selected on validation {result.monitor}",
        f"- Augmentation {'on' if config.augment else 'off'}; seed {config.seed}; precision {config.precision}; "
        f"trained in {result.seconds} s", "",
        "## Scores", "", *_scores(result), "",
        "## Verdict against FTL", "", *_verdict(config, cut, run_dir), "",
        "## Known limits", "", *_limits(config, result, metadata), "",
        "## Intended use", "", TO_FILL + ": the clinical question, the population and setting it is meant for, "
        "who reads its output, and the uses it must not be put to.", ""]
    return "\n".join(lines)


def write_model_card(run_dir: Path, metadata: Metadata, files: list[Path]) -> Path:
    """Write ``MODEL_CARD.md`` beside the exported ``files``."""
    path = Path(files[0]).parent / CARD
    write_text(path, model_card(run_dir, metadata, files))
    return path
