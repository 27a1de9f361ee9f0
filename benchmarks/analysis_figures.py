"""The figures of docs/analysis.md (``docs/img/svcca_*.png``), drawn from committed records only: the SVCCA
record ``results/svcca_ftl_lite0_chest_xray.json`` and the TTL trials beside it
(``results/svcca_ttl_sweep/trials``: validation AUPRC per cut, the second axis of the per-cut figure)."""

from __future__ import annotations

from pathlib import Path

from truncatedtl.report.plots import FIGURES as NAMES
from truncatedtl.report.plots import draw

FIGURES = tuple(NAMES.values())
RECORD = "svcca_ftl_lite0_chest_xray.json"
SWEEP = "svcca_ttl_sweep"


def draw_files(results: Path, out: Path) -> list[Path]:
    """Draw the three SVCCA figures into ``out/img``."""
    sweep = [results / SWEEP] if (results / SWEEP / "trials").is_dir() else []
    return draw(results / RECORD, Path(out) / "img", sweep)
