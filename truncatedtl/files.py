"""Files that appear whole or not at all: written under a temporary name beside the target, fsynced, renamed.

The one place the product writes results. A full disk (or any other write failure) removes the temporary file
and raises :class:`WriteError` naming the path and, for a full disk, the free space there and the space needed."""

from __future__ import annotations

import errno
import json
import math
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class WriteError(OSError):
    """A result could not be written; the message names the path and what to free or change."""

    def __init__(self, message: str, code: int = 0) -> None:
        super().__init__(message)
        self.errno = code


@contextmanager
def atomic_path(path: Path, size: int | None = None) -> Iterator[Path]:
    """Yield a temporary path (same folder and suffix as ``path``) to write; it becomes ``path`` when the block
    ends without error and is removed otherwise. ``size``: the bytes to be written, where known, for the
    full-disk message."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise _write_error(path, err, size, 0) from err
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    except OSError as err:
        written = tmp.stat().st_size if tmp.exists() else 0
        _remove(tmp)
        raise _write_error(path, err, size, written) from err
    finally:
        _remove(tmp)


def _remove(tmp: Path) -> None:
    """Remove a temporary file if it is there; a failure to (a read-only location) must not hide the error
    that is being reported."""
    try:
        tmp.unlink(missing_ok=True)
    except OSError:
        pass


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path, len(data)) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(data)


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8, line endings as given)."""
    write_bytes(path, text.encode())


def write_json(path: Path, value) -> None:
    """Write ``value`` as indented JSON to ``path`` atomically."""
    write_text(path, json.dumps(value, indent=2))


def write_checkpoint(path: Path, state: dict) -> None:
    """Write a state dict (name → tensor) as safetensors to ``path`` atomically. A tensor holding NaN or
    infinity is refused, naming it: such a checkpoint would only ever predict garbage."""
    from safetensors.torch import save

    bad = [name for name, t in state.items() if t.is_floating_point() and not bool(t.isfinite().all())]
    if bad:
        raise ValueError(f"not writing {path}: tensor(s) {', '.join(bad[:3])} hold non-finite values (NaN or "
                         f"infinity); lower the learning rate (--lr)")
    write_bytes(path, save({k: v.detach().contiguous().cpu() for k, v in state.items()}))


def write_rows(path: Path, rows: list[dict]) -> None:
    """Write ``rows`` (dicts with the same keys) as CSV to ``path`` atomically."""
    import csv
    import io

    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, buffer.getvalue())


@contextmanager
def staged_directory(out: Path, keep: tuple[str, ...] = ()) -> Iterator[Path]:
    """Yield a staging folder beside ``out`` to fill; it becomes ``out`` (which must be missing or empty but
    for the entries named in ``keep``, moved in) when the block ends without error, and is removed otherwise.
    A write error names ``out``, not the staging folder."""
    import tempfile

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.staging-"))
    try:
        yield staging
        for name in keep:
            if (out / name).exists():
                os.replace(out / name, staging / name)
        if out.exists():
            out.rmdir()
        os.replace(staging, out)
    except WriteError as err:
        shutil.rmtree(staging, ignore_errors=True)
        raise WriteError(str(err).replace(str(staging), str(out)), err.errno) from err
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB" if size >= 2**20 / 10 else f"{math.ceil(size / 2**10)} KiB"


def _write_error(path: Path, err: OSError, size: int | None, written: int) -> WriteError:
    """``size``: the whole file's bytes where known; else ``written`` (what got out before the failure) is a
    lower bound."""
    if isinstance(err, WriteError):
        return err
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        free = shutil.disk_usage(path.parent).free
        needed = f"{_mib(size)} needed" if size is not None else f"at least {_mib(max(written, 1))} needed"
        return WriteError(f"disk full while writing {path}: {needed}, {_mib(free)} free in {path.parent}; free "
                          f"space or choose another --out (nothing was left half-written)", errno.ENOSPC)
    return WriteError(f"cannot write {path}: {err.strerror or err}", err.errno or 0)
