"""``ttl export`` writes MODEL_CARD.md beside the model: every field, from a real trained run's records."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from truncatedtl.analysis.complexity import count_params
from truncatedtl.backbones import load_backbone
from truncatedtl.deploy import export_run
from truncatedtl.deploy.model_card import CARD, NOT_COMPUTED
from truncatedtl.spec import HeadSpec
from truncatedtl.tasks import build_network, resolve_spec


def section(card: str, title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", card, re.S | re.M)
    assert match, f"no section {title!r} in the card"
    return match.group(1)


def test_export_writes_a_card_with_every_field(run_copy: Path, run_cli) -> None:
    code, out, err = run_cli("export", run_copy, "--format", "onnx")
    assert code == 0, err
    assert "MODEL_CARD.md" in out
    card = (run_copy / CARD).read_text()
    result = json.loads((run_copy / "result.json").read_text())

    model = section(card, "Model")
    assert "`resnet18`" in model and "weights: none" in model and "`ttl`" in model
    assert "k = 2 of 8 (`layer1.1`, block 1" in model and "classes: plain, textured" in model

    cost = section(card, "Cost against full finetuning (FTL)")
    ftl = count_params(build_network(resolve_spec(resnet18 := load_backbone("resnet18", "none"), "ftl", None, HeadSpec(2, 32)),
                                       resnet18))
    assert f"| parameters | {result['params'] / 1e6:.2f} M | {ftl / 1e6:.2f} M | {result['params'] / ftl:.2f} |" in cost
    assert "| MACs (one input) |" in cost and f"| CPU latency | {NOT_COMPUTED} |" in cost

    data = section(card, "Data")
    assert "Path as given: `synthetic`" in data
    sizes = ", ".join(f"{k} {v}" for k, v in result["samples"].items())
    assert f"Split sizes: {sizes} (split seed 0, at most 64 per split)" in data
    assert re.search(r"Class balance: train plain \d+ / textured \d+; val plain \d+ / textured \d+; test", data)
    assert re.search(r"Fingerprint \(\w+\): train `[0-9a-f]{16}`, val `[0-9a-f]{16}`, test `[0-9a-f]{16}`", data)

    prep = section(card, "Preprocessing and intensity policy")
    assert "Intensity policy: `dtype`" in prep and "Image size 32" in prep and "center crop" in prep

    recipe = section(card, "Training recipe")
    assert "Recipe `paper-2d`" in recipe and "at most 1 epochs" in recipe and "validation auprc" in recipe

    scores = section(card, "Scores")
    for split, metric in (("val", "auroc"), ("test", "auprc")):  # the run's own bootstrap intervals
        low, high = result[f"{split}_ci"][metric]
        label = {"auroc": "AUROC", "auprc": "AUPRC"}[metric]
        assert f"| {split} | {label} | {result[split][metric]:.4f} | {low:.4f} – {high:.4f} |" in scores

    assert "None: this run is not part of a `ttl compare` or `ttl search` directory" in section(
        card, "Verdict against FTL")
    limits = section(card, "Known limits")
    assert "inputs of 32²" in limits and "One site's data" in limits and "at most 64 samples" in limits
    assert "random initialisation" in limits
    assert "TO BE FILLED IN" in section(card, "Intended use")


def test_card_reads_intervals_and_the_verdict_of_the_comparison_it_lives_in(trained_run: Path,
                                                                           tmp_path: Path) -> None:
    run = Path(shutil.copytree(trained_run, tmp_path / "search" / "runs" / "ttl"))
    result = json.loads((run / "result.json").read_text())
    result["val_ci"] = {"auroc": [0.71, 0.83]}  # no val AUPRC interval: the card says so
    result["test_ci"] = {"auroc": [0.61, 0.79], "auprc": [0.6, 0.8]}
    (run / "result.json").write_text(json.dumps(result))
    report = {"versus_ftl": [
        {"strategy": "ttl", "cut": 2, "metric": "auroc", "difference": 0.012, "ci": [-0.015, 0.04],
         "p_value": 0.41, "margin": 0.02, "verdict": "non-inferior"},
        {"strategy": "tf", "cut": 2, "metric": "auroc", "difference": -0.1, "ci": [-0.2, -0.05], "p_value": 0.01,
         "margin": 0.02, "verdict": "inferior"}],
        "chosen": {"strategy": "ttl", "cut": 2, "cpu_ms": 2.0}, "ftl": {"strategy": "ftl", "cut": 8, "cpu_ms": 5.0}}
    (tmp_path / "search" / "report.json").write_text(json.dumps(report))
    exported = export_run(run, "onnx", tmp_path / "out" / "model.onnx")
    assert exported.card == tmp_path / "out" / CARD
    card = exported.card.read_text()
    scores = section(card, "Scores")
    assert "| val | AUROC" in scores and "| 0.7100 – 0.8300 |" in scores
    assert "| 0.6100 – 0.7900 |" in scores and "| 0.6000 – 0.8000 |" in scores
    assert f"| val | AUPRC | {result['val']['auprc']:.4f} | {NOT_COMPUTED} |" in scores
    verdict = section(card, "Verdict against FTL")
    assert "search/report.json" in verdict
    assert "| AUROC | 0.0120 | -0.0150 – 0.0400 | 0.41 | 0.02 | **non-inferior** |" in verdict
    assert "inferior**" not in verdict.replace("non-inferior**", "")
    assert "| CPU latency (batch 1) | 2.00 ms | 5.00 ms | 0.40 |" in section(card, "Cost against full finetuning (FTL)")
