"""``ttl report DIR``: redraw the tables of a directory from its saved records, whatever kind it is."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer

from ..report.comparison import COMPARISON_FILE, write_comparison_tables
from ..report.search import SEARCH_MARKER, summary_lines, write_search_report


def report_comparison(directory: Path) -> None:
    """A ``ttl compare`` directory: table.md and table.csv from its trial records."""
    typer.echo(write_comparison_tables(directory))
    typer.echo(f"tables written to {directory / 'table.md'}, {directory / 'table.csv'} and {directory / 'report.json'}")


def report_search(directory: Path) -> None:
    """A ``ttl search`` directory: report.md, report.json and auprc_by_cut.png from its records."""
    for line in summary_lines(write_search_report(directory)):
        typer.echo(line)
    typer.echo(f"report written to {directory / 'report.md'}")


# Each kind of directory: the file that marks it, and the function that reports it.
KINDS: dict[str, Callable[[Path], None]] = {COMPARISON_FILE: report_comparison, SEARCH_MARKER: report_search}


def report(directory: Path = typer.Argument(..., help="A directory made by ttl compare or ttl search.")) -> None:
    """Redraw the report of DIR from its saved records (no model is trained or loaded)."""
    for marker, write in KINDS.items():
        if (directory / marker).is_file():
            write(directory)
            return
    raise FileNotFoundError(f"{directory} is not a directory ttl report knows: none of "
                            f"{', '.join(KINDS)} is in it")
