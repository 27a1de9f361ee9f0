"""What every benchmark shares about its committed records: paths written relative to the data root, and the
mean ± population std every page prints.

Records under ``docs/`` name no machine's folders: a data path becomes relative to the data root
(``chest_xray_pneumonia/...``), and a manifest a benchmark writes to a temporary folder at run time is named
by what it holds (:data:`RUN_TIME_MANIFESTS`)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from truncatedtl.files import write_json

# An absolute POSIX path inside text: a slash that starts a word, then at least one folder.
ABSOLUTE_PATH = re.compile(r"(?<![\w.~:/\\>])/(?:[\w.-]+/)+[\w.-]*")
# Temporary manifests (written at run time, gone afterwards) → what they list.
# The data root the benchmarks read (``../shared/data`` from the repository), as the records spell it.
DATA_ROOT = str((Path(__file__).resolve().parent.parent.parent / "shared" / "data").resolve())
RUN_TIME_MANIFESTS = {"tb.csv": "cxr_lung_seg_tb.csv (TB labels of cxr_lung_seg/images, written at run time)",
                      "cxr_lung_seg_tb.csv": "cxr_lung_seg_tb.csv (TB labels of cxr_lung_seg/images, written at "
                                             "run time)"}


def relative_to_data(text: str, data_root: str = DATA_ROOT) -> str:
    """``text`` with every absolute path under ``data_root`` made relative to it, and every temporary manifest
    named by what it lists; other text unchanged."""
    def rewrite(match: re.Match) -> str:
        path = match[0]
        root = data_root.rstrip("/") + "/"
        if path.startswith(root):
            return path[len(root):]
        if path.startswith("/tmp/") and Path(path).name in RUN_TIME_MANIFESTS:
            return RUN_TIME_MANIFESTS[Path(path).name]
        return path

    return ABSOLUTE_PATH.sub(rewrite, text)


def scrub(value, data_root: str = DATA_ROOT):
    """A JSON value with :func:`relative_to_data` applied to every string in it."""
    if isinstance(value, str):
        return relative_to_data(value, data_root)
    if isinstance(value, list):
        return [scrub(v, data_root) for v in value]
    if isinstance(value, dict):
        return {k: scrub(v, data_root) for k, v in value.items()}
    return value


def keep(path: Path, record: dict, data_root: str = DATA_ROOT) -> None:
    """Commit-ready copy of a record: absolute paths rewritten (:func:`scrub`), checkpoints not referenced
    as machine paths."""
    write_json(path, scrub(record, data_root))


def read(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def pm(values: Sequence[float], digits: int = 3) -> str:
    """``mean ± population std`` of ``values``."""
    v = np.asarray(values, dtype=float)
    return f"{v.mean():.{digits}f} ± {v.std():.{digits}f}"
