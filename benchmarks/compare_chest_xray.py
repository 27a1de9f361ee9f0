"""docs/results/compare_chest_xray.md: the strategies side by side, drawn from the two comparisons' records
(``compare_chest_xray_200/`` and ``compare_chest_xray/``, each as ``ttl compare`` left it) with the product's
own report (:mod:`truncatedtl.report.comparison`, what ``ttl report DIR`` writes)."""

from __future__ import annotations

import json
from pathlib import Path

from truncatedtl.files import write_text
from truncatedtl.report.comparison import comparison_tables

RUNS = {"200": "compare_chest_xray_200", "100": "compare_chest_xray"}


def _report(folder: Path) -> tuple[str, str, str]:
    """(table.md, table.csv, report.json) of one comparison folder, as ``ttl report`` draws them."""
    markdown, table, report = comparison_tables(folder)
    return markdown, table, json.dumps(report, indent=2)  # as truncatedtl.files.write_json writes it


def draw_page(results: Path) -> dict[str, str]:
    """The table of each comparison (the table lines of its ``table.md``)."""
    return {f"table-{size}": "\n".join(line for line in _report(results / folder)[0].splitlines()
                                       if line.startswith("|"))
            for size, folder in RUNS.items()}


def draw_files(results: Path, out: Path) -> list[Path]:
    """Each comparison's ``table.md``, ``table.csv`` and ``report.json`` into ``out/results/<folder>/``."""
    written = []
    for folder in RUNS.values():
        for name, text in zip(("table.md", "table.csv", "report.json"), _report(results / folder)):
            path = Path(out) / "results" / folder / name
            write_text(path, text)
            written.append(path)
    return written
