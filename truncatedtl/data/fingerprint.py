"""What a dataset is, as a comparable value: which files (sizes and modification times, or content hashes
for small sets; a DICOM series folder by the files in it) or arrays, and which split each belongs to. A resumed search or comparison compares the
fingerprint of its data with the one it recorded; a disk cache names its file by the digest of its items."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ._types import DataSplits, Samples

# Sets of at most this many files are fingerprinted by content; larger ones by size and modification time.
CONTENT_HASH_FILES = 2000


def _file_entry(path: Path, content: bool) -> str:
    """One line per file; a folder (a DICOM series) one line per file in it, in name order."""
    if path.is_dir():
        return "\n".join(_file_entry(p, content) for p in sorted(path.iterdir()) if p.is_file())
    stat = path.stat()
    if content:
        return f"{path}\t{stat.st_size}\t{hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()}"
    return f"{path}\t{stat.st_size}\t{stat.st_mtime_ns}"


def items_digest(samples: Samples, content: bool = False) -> str:
    """Hex digest of a split's parts (images and labels, or images and masks): array bytes, or per file its
    path, size and modification time (``content``: its bytes instead of the time)."""
    digest = hashlib.blake2b(digest_size=16)
    for part in samples.parts():
        if isinstance(part, np.ndarray):
            array = np.ascontiguousarray(part)
            digest.update(f"{array.dtype}{array.shape}".encode())
            digest.update(array.tobytes())
        else:
            for path in part:
                digest.update(_file_entry(Path(path), content).encode() + b"\n")
    return digest.hexdigest()


def fingerprint(data: DataSplits) -> dict:
    """The data's fingerprint: source, classes, and per split its sample count and item digest (content hashes
    where the set holds at most :data:`CONTENT_HASH_FILES` files). Equal fingerprints mean the same samples in
    the same splits with the same labels."""
    files = sum(len(part) for s in data.splits().values() for part in s.parts() if not isinstance(part, np.ndarray))
    content = files <= CONTENT_HASH_FILES
    return {
        "source": data.source,
        "classes": list(data.classes),
        "method": "content" if content else "size+mtime",
        "splits": {name: {"count": len(s), "digest": items_digest(s, content)} for name, s in data.splits().items()},
    }
