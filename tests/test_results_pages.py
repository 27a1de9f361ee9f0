"""The results pages are drawn from their committed records (``python -m benchmarks redraw``), and nothing
committed under docs/ names a machine's folders."""

from __future__ import annotations

import re
import zlib
from pathlib import Path

import pytest

from benchmarks.__main__ import main as benchmarks_main
from benchmarks.records import ABSOLUTE_PATH, relative_to_data, scrub
from benchmarks.redraw import FILES, PAGES, blocks, fill, redraw

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# Pages whose drawing reads JSON records only (no network built, no figure rendered): checked byte for byte.
SMALL_PAGES = ("latency.md", "data_memory.md", "svcca_benchmark.md", "lung_segmentation.md", "gpu_converged.md",
               "compare_chest_xray.md", "vesselmnist3d.md", "inter_domain.md")


def test_small_pages_redraw_byte_for_byte(tmp_path: Path) -> None:
    written = redraw(DOCS, tmp_path, SMALL_PAGES)
    assert len(written) == len(SMALL_PAGES)
    for path in written:
        relative = path.relative_to(tmp_path)
        assert path.read_bytes() == (DOCS / relative).read_bytes(), f"docs/{relative} differs from its redraw"


def test_check_command_reports_a_stale_page(tmp_path: Path, capsys) -> None:
    docs = tmp_path / "docs"
    (docs / "results").mkdir(parents=True)
    for name in ("latency.md", "latency.json", "latency_3d.json"):
        (docs / "results" / name).write_bytes((DOCS / "results" / name).read_bytes())
    assert benchmarks_main(["redraw", "--docs", str(docs), "--page", "latency.md", "--check"]) == 0
    page = docs / "results" / "latency.md"
    page.write_text(page.read_text().replace("| resnet50 | ftl | 16 |", "| resnet50 | ftl | 15 |", 1))
    assert benchmarks_main(["redraw", "--docs", str(docs), "--page", "latency.md", "--check"]) == 1
    assert "docs/results/latency.md" in capsys.readouterr().out


def test_every_results_page_is_drawn_by_the_command() -> None:
    pages = {p.relative_to(DOCS).as_posix() for p in (DOCS / "results").glob("*.md")}
    assert pages == {page.path for page in PAGES}
    for page in PAGES:
        assert blocks((DOCS / page.path).read_text()), f"{page.path} has no drawn block"
    drawn = {path for files in FILES for path in files.paths}
    assert {p.relative_to(DOCS).as_posix() for p in (DOCS / "img").glob("*.png")} <= drawn


# How a page says its rows were chosen: a "best" on validation, or nothing chosen at all.
SELECTION = re.compile(r"selected on validation|nothing (?:on this page )?is [^.;]*selected", re.IGNORECASE)


def test_every_results_page_says_how_its_rows_were_selected() -> None:
    """Each page states that its "best" rows are selected on validation, or that it selects nothing."""
    silent = [p.name for p in sorted((DOCS / "results").glob("*.md")) if not SELECTION.search(
        " ".join(p.read_text().split()))]
    assert not silent, f"pages that do not say how their rows were selected: {silent}"


def test_fill_names_the_missing_and_the_extra_block() -> None:
    text = "a\n<!-- redraw one -->\nold\n<!-- /redraw -->\nb\n"
    assert fill(text, {"one": "new"}) == "a\n<!-- redraw one -->\nnew\n<!-- /redraw -->\nb\n"
    with pytest.raises(ValueError, match=r"page.md: blocks without a drawing \['one'\], drawings without a "
                                         r"block \['two'\]"):
        fill(text, {"two": "x"}, "page.md")


def _png_text(path: Path) -> str:
    """The text chunks of a PNG (tEXt, zTXt, iTXt), where a title or a path could hide."""
    data, texts, offset = path.read_bytes(), [], 8
    while offset < len(data):
        length = int.from_bytes(data[offset:offset + 4], "big")
        kind, body = data[offset + 4:offset + 8], data[offset + 8:offset + 8 + length]
        if kind == b"tEXt":
            texts.append(body.decode("latin-1"))
        elif kind == b"zTXt":
            key, _, rest = body.partition(b"\0")
            texts.append(key.decode("latin-1") + zlib.decompress(rest[1:]).decode("latin-1"))
        elif kind == b"iTXt":
            texts.append(body.decode("utf-8", "replace"))
        offset += 12 + length
    return "\n".join(texts)


def _npz_text(path: Path) -> str:
    """The text arrays of an .npz (kept predictions: sample ids, groups), where a file path could hide."""
    import numpy as np

    with np.load(path, allow_pickle=False) as arrays:
        return "\n".join("\n".join(map(str, arrays[k].ravel())) for k in arrays.files if arrays[k].dtype.kind == "U")


def test_nothing_under_docs_names_an_absolute_path() -> None:
    found = []
    for path in sorted(p for p in DOCS.rglob("*") if p.is_file()):
        reader = {".png": _png_text, ".npz": _npz_text}.get(path.suffix, Path.read_text)
        text = reader(path)
        text = re.sub(r"\A#!\S+", "", text)  # a script's interpreter line
        found += [f"{path.relative_to(ROOT)}: {m[0]}" for m in ABSOLUTE_PATH.finditer(text)]
    assert not found, "absolute paths under docs/:\n" + "\n".join(found[:20])


def test_records_are_made_relative_to_the_data_root() -> None:
    root = "/data/root"
    assert relative_to_data("--data /data/root/chest_xray_pneumonia/train x", root) == \
        "--data chest_xray_pneumonia/train x"
    assert relative_to_data("/tmp/tmpab12/tb.csv", root).startswith("cxr_lung_seg_tb.csv (")
    assert relative_to_data("1/90 and ../shared/data/x", root) == "1/90 and ../shared/data/x"
    assert scrub({"a": ["/data/root/v.npz", 3]}, root) == {"a": ["v.npz", 3]}
    assert ABSOLUTE_PATH.search("see /home/someone/file.txt")
