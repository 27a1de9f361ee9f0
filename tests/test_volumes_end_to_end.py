"""Volumes end to end through the CLI: a two-stage ``ttl search`` and a ``ttl compare`` (ftl, ttl) on synthetic-3d
with resnet18_3d (random init, 32³ — its full network's stride —, 16 volumes per split, one epoch)."""

import csv
import json

TINY_3D = ("--data", "synthetic-3d", "--backbone", "resnet18_3d", "--weights", "none", "--image-size", "32",
           "--limit", "16", "--max-epochs", "1", "--batch-size", "8", "--repeats", "1")
# MACs of resnet18_3d's full network (FTL, 2-class head) on one 32³ volume, as `ttl cutpoints` counts them.
FTL_MACS_32 = 0.673e9


def test_two_stage_search_on_volumes(tmp_path, run_cli):
    out = tmp_path / "s"
    code, stdout, stderr = run_cli("search", *TINY_3D, "--method", "two-stage", "--radius", "0", "--out", out)
    assert code == 0, stderr
    report = json.loads((out / "report.json").read_text())
    # stage 1 trains the block ends k = 2, 4, 6 and the FTL reference, which ttl at k = 8 (the whole network)
    # builds too: four trainings
    assert report["trials"] == 4 and report["chosen_cut"] in (2, 4, 6, 8) and report["no_truncation"] == [8]
    assert f"chosen cut: {report['chosen_cut']}" in stdout
    for model in ("chosen", "ftl"):
        assert 0 <= report[model]["test"]["auroc"]["mean"] <= 1
    assert report["ratios"]["params"] < 1 or report["chosen_cut"] == 8


def test_compare_ftl_and_ttl_on_volumes(tmp_path, run_cli):
    out = tmp_path / "c"
    code, _, stderr = run_cli("compare", *TINY_3D, "--strategies", "ftl,ttl", "--cut", "2", "--out", out)
    assert code == 0, stderr
    rows = list(csv.DictReader(open(out / "table.csv")))
    assert [(r["strategy"], r["cut"]) for r in rows] == [("ftl", "8"), ("ttl", "2")]
    ftl, ttl = ({k: float(r[k]) for k in ("params", "macs")} for r in rows)
    # MACs are counted on a 32³ volume (a 32² image would give about 30 times fewer)
    assert abs(ftl["macs"] - FTL_MACS_32) / FTL_MACS_32 < 0.02
    assert ttl["params"] < 0.02 * ftl["params"] and ttl["macs"] < 0.75 * ftl["macs"]
    records = [json.loads(p.read_text()) for p in sorted((out / "trials").glob("*.json"))]
    assert sorted(r["strategy"] for r in records) == ["ftl", "ttl"]
