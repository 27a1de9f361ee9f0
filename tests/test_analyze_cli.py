from pathlib import Path

import numpy as np
import pytest
import torch

from truncatedtl.analysis.transferability import Transferability
from truncatedtl.backbones import load_backbone
from truncatedtl.engine import RunConfig, TrainedRun, save_run
from truncatedtl.engine.run import model_spec
from truncatedtl.record import TrialRecord, write_record
from truncatedtl.report.plots import FIGURES, auprc_by_cut, draw
from truncatedtl.tasks import build_network

SIZE = 32


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A resnet18 FTL run on the synthetic set whose top block moved away from the initial weights, with
    TTL trial records beside it."""
    config = RunConfig(data="synthetic", backbone="resnet18", strategy="ftl", image_size=SIZE, weights="none",
                       max_epochs=1)
    backbone = load_backbone("resnet18", "none")
    spec = model_spec(config, backbone, 2)
    model = build_network(spec, backbone)
    with torch.no_grad():
        for p in model.body[7:].parameters():
            p.add_(torch.randn(p.shape, generator=torch.Generator().manual_seed(0)) * p.std())
    def record(strategy: str, cut: int, seed: int, auprc: float) -> TrialRecord:
        return TrialRecord(strategy=strategy, backbone="resnet18", cut=cut, params=0, macs=0, epochs=1, best_epoch=1,
                           seconds=0.0, val={"auroc": 0.5, "auprc": auprc}, seed=seed, image_size=SIZE,
                           weights="none", data="synthetic", task="binary", classes=["plain", "textured"],
                           samples={}, notes=[])

    run = TrainedRun(config, spec, record("ftl", 8, 0, 0.5), [{"epoch": 1, "loss": 0.7}], model.state_dict())
    root = save_run(run, tmp_path_factory.mktemp("runs") / "ftl")
    (root / "trials").mkdir()
    for cut, seed, auprc in ((2, 0, 0.8), (2, 1, 0.9), (6, 0, 0.7)):
        write_record(root / "trials" / f"ttl-k{cut:03d}-s{seed}.json", record("ttl", cut, seed, auprc))
    return root


def analyze(run_cli, run_dir: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    return run_cli("analyze", "--run", run_dir, "--reference", "none", "--samples", 16, "--positions", 4,
                   "--out", out, *extra)


def test_analyze_writes_the_record_and_the_three_plots(run_cli, run_dir, tmp_path):
    code, out, err = analyze(run_cli, run_dir, tmp_path / "analysis")
    assert code == 0, err
    record = Transferability.load(tmp_path / "analysis" / "svcca.json")
    assert [c.cut for c in record.cuts] == list(range(9))
    assert record.samples == 16 and record.reference == "resnet18 (none)"
    np.testing.assert_allclose(record.cuts[2].coefficients, 1, atol=1e-6)  # below the changed block
    assert [(b.model, b.blocks) for b in record.blocks] == [
        ("pretrained", (2, 4)), ("pretrained", (3, 4)), ("finetuned", (2, 4)), ("finetuned", (3, 4))]
    for name in FIGURES.values():
        assert (tmp_path / "analysis" / name).read_bytes()[:4] == b"\x89PNG"
    assert "B2-B4" in out


def test_plots_redraw_from_the_record_alone(run_cli, run_dir, tmp_path):
    assert analyze(run_cli, run_dir, tmp_path / "a")[0] == 0
    redrawn = draw(tmp_path / "a" / "svcca.json", tmp_path, [run_dir])
    assert sorted(p.name for p in redrawn) == sorted(FIGURES.values())


def test_auprc_per_cut_from_trial_records(run_dir):
    curve = auprc_by_cut([run_dir])
    assert curve.cuts == (2, 6) and curve.repeats == (2, 1)
    assert curve.mean == pytest.approx((0.85, 0.7)) and curve.std == pytest.approx((0.05, 0.0))
    assert auprc_by_cut([run_dir], strategy="tf") is None


@pytest.mark.parametrize(("option", "value", "named"), [
    ("--reference", "missing.safetensors", "--reference"),
    ("--samples", "1", "--samples"),
    ("--positions", "0", "--positions"),
    ("--split", "train", "--split"),
    ("--keep", "1.5", "--keep"),
])
def test_bad_input_names_the_option_and_writes_nothing(run_cli, run_dir, tmp_path, option, value, named):
    code, _, err = run_cli("analyze", "--run", run_dir, "--reference", "none", "--out", tmp_path / "analysis",
                           option, value)
    assert code == 2 and named in err
    assert not (tmp_path / "analysis").exists()


def test_missing_run_and_existing_record_are_refused(run_cli, run_dir, tmp_path):
    code, _, err = run_cli("analyze", "--run", tmp_path / "nothing", "--out", tmp_path / "a")
    assert code == 2 and "--run" in err
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "svcca.json").write_text("{}")
    code, _, err = analyze(run_cli, run_dir, tmp_path / "b")
    assert code == 2 and "already holds svcca.json" in err
