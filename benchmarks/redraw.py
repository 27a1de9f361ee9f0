"""Redraw every results page from its committed records: ``python -m benchmarks redraw`` (or ``make results``).

A page under ``docs/`` keeps its prose by hand; what is drawn from records sits between markers,

    <!-- redraw NAME -->
    ...drawn text...
    <!-- /redraw -->

and each page's own drawing function (registered in :data:`PAGES`) returns ``{NAME: text}`` for every block
of its page, read from the records under ``docs/results/``. A redraw replaces each block's text and leaves
everything else byte for byte; a page with a block its function does not draw, or the other way round, is an
error naming both. Figures (``docs/img/*.png``) and other files drawn whole have their own functions
(:data:`FILES`).
To add a page: mark its blocks, give its benchmark module a ``draw_page``, and list it in :data:`PAGES`.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from truncatedtl.files import write_text

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BLOCK = re.compile(r"(<!-- redraw (?P<name>[\w.-]+) -->\n)(?P<body>.*?)(<!-- /redraw -->)", re.S)


@dataclass(frozen=True)
class Page:
    """A page (path relative to ``docs/``) and its drawing function ``benchmarks.<module>.<function>``:
    results folder → {block name: text}. Imported when the page is drawn."""

    path: str
    module: str
    function: str = "draw_page"

    def draw(self, results: Path) -> dict[str, str]:
        return getattr(importlib.import_module(f"benchmarks.{self.module}"), self.function)(results)


@dataclass(frozen=True)
class Files:
    """Files drawn whole (paths relative to ``docs/``: figures, a comparison's own table) and the function
    drawing them, ``benchmarks.<module>.<function>``: (results folder, docs out folder) → the files written."""

    paths: tuple[str, ...]
    module: str
    function: str = "draw_files"

    def draw(self, results: Path, out: Path) -> list[Path]:
        return getattr(importlib.import_module(f"benchmarks.{self.module}"), self.function)(results, out)


# Every page under docs/results/, each drawn by the benchmark that makes its records.
PAGES = (Page("results/compare_chest_xray.md", "compare_chest_xray"),
         Page("results/data_memory.md", "data_memory"),
         Page("results/explain_maps.md", "explain_maps"),
         Page("results/gpu_converged.md", "gpu_converged"),
         Page("results/int8.md", "int8"),
         Page("results/inter_domain.md", "inter_domain"),
         Page("results/latency.md", "latency"),
         Page("results/lung_segmentation.md", "lung_segmentation"),
         Page("results/search_cost.md", "search_cost"),
         Page("results/svcca_benchmark.md", "svcca"),
         Page("results/trainer_throughput.md", "trainer_throughput"),
         Page("results/trial_time_3d.md", "trial_time"),
         Page("results/ttl_block_boundaries.md", "block_boundaries"),
         Page("results/vesselmnist3d.md", "vesselmnist3d"))
FILES = (Files(("img/svcca_cuts.png", "img/svcca_blocks.png", "img/svcca_block_pairs.png"), "analysis_figures"),
         Files(("results/explain_maps/explain_maps.png",), "explain_maps"),
         Files(("img/search_cost_curves.png",), "search_cost"),
         Files(tuple(f"results/{d}/table.{ext}" for d in ("compare_chest_xray", "compare_chest_xray_200")
                     for ext in ("md", "csv")) + ("results/compare_chest_xray/report.json",
                                                   "results/compare_chest_xray_200/report.json"), "compare_chest_xray"))


def blocks(text: str) -> list[str]:
    """Names of the drawn blocks of a page, in order."""
    return [m["name"] for m in BLOCK.finditer(text)]


def fill(text: str, drawn: dict[str, str], page: str = "page") -> str:
    """``text`` with every drawn block's body replaced by ``drawn[name]`` (a final newline added)."""
    names = blocks(text)
    if len(set(names)) != len(names):
        raise ValueError(f"{page}: a redraw block name is used twice ({', '.join(names)})")
    missing, extra = sorted(set(names) - set(drawn)), sorted(set(drawn) - set(names))
    if missing or extra:
        raise ValueError(f"{page}: blocks without a drawing {missing or '[]'}, drawings without a block "
                         f"{extra or '[]'}")
    return BLOCK.sub(lambda m: m[1] + drawn[m["name"]].rstrip("\n") + "\n" + m[4], text)


def redraw(docs: Path = DOCS, out: Path | None = None, only: Sequence[str] | None = None) -> list[Path]:
    """Redraw the pages (all, or those whose path ends with one of ``only``: then no whole files) and the
    files drawn whole of ``docs`` into ``out`` (default: in place); the files written."""
    out = Path(out) if out is not None else Path(docs)
    written = []
    for page in PAGES:
        if only and not any(page.path.endswith(name) for name in only):
            continue
        source = Path(docs) / page.path
        text = fill(source.read_text(), page.draw(Path(docs) / "results"), page.path)
        write_text(out / page.path, text)
        written.append(out / page.path)
    if not only:
        for files in FILES:
            written += files.draw(Path(docs) / "results", out)
    return written
