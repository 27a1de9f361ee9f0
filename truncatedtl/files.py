"""Files that appear whole or not at all: written under a temporary name beside the target, fsynced, renamed.

The one place the product writes results. A full disk (or any other write failure) removes the temporary file
and raises :class:`WriteError` naming the path and, for a full disk, the free space there and the space needed."""

from __future__ import annotations

import errno
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class WriteError(OSError):
    """A result could not be written; the message names the path and what to free or change."""


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path (same folder and suffix as ``path``) to write; it becomes ``path`` when the block
    ends without error and is removed otherwise."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    except OSError as err:
        size = tmp.stat().st_size if tmp.exists() else 0
        raise _write_error(path, err, size) from err
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", newline="") as handle:
            handle.write(text)


def write_json(path: Path, value) -> None:
    """Write ``value`` as indented JSON to ``path`` atomically."""
    write_text(path, json.dumps(value, indent=2))


def _fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _write_error(path: Path, err: OSError, size: int) -> WriteError:
    if isinstance(err, WriteError):
        return err
    if err.errno == errno.ENOSPC:
        free = shutil.disk_usage(path.parent).free
        return WriteError(errno.ENOSPC, f"disk full while writing {path}: {free / 2**20:.1f} MiB free in "
                                        f"{path.parent}, at least {max(size, 1) / 2**20:.1f} MiB more needed; "
                                        f"free space or choose another --out (nothing was left half-written)")
    return WriteError(err.errno or 0, f"cannot write {path}: {err.strerror or err}")
