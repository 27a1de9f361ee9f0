"""``python -m benchmarks redraw [--out DIR] [--page NAME ...]``: redraw the results pages and figures from
their committed records (in place by default); ``--check`` redraws into a temporary folder and lists every
file that differs from the committed one (exit status 1 when any does)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from .redraw import DOCS, redraw


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split(":")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    draw = commands.add_parser("redraw", help="redraw docs/results (and docs/img) from the committed records")
    draw.add_argument("--docs", type=Path, default=DOCS, help="the docs folder to read (default: docs/)")
    draw.add_argument("--out", type=Path, help="write here instead of in place")
    draw.add_argument("--page", action="append", help="only this page (file name, repeatable); no figures")
    draw.add_argument("--check", action="store_true", help="compare with the committed files, write nothing")
    args = parser.parse_args(argv)
    if not args.check:
        for path in redraw(args.docs, args.out, args.page):
            print(path)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        differ = [path.relative_to(tmp) for path in redraw(args.docs, Path(tmp), args.page)
                  if path.read_bytes() != (args.docs / path.relative_to(tmp)).read_bytes()]
    for path in differ:
        print(f"differs from the committed file: docs/{path}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
