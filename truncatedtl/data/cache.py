"""Caches of preprocessed items (uint8 (C, *spatial) each), filled as items are first read.

``ram``: one tensor in shared memory, so DataLoader workers fill it for everyone. ``disk``: one file of
fixed-size records under a cache folder, named by what it holds, so later trials of a search (and a resumed
search) reuse it; records are read and written with ``pread``/``pwrite`` (not mapped), so reading it does not
grow the process's resident memory. ``none`` keeps nothing: every read decodes the file again."""

from __future__ import annotations

import hashlib
import math
import os
import shutil
from abc import ABC, abstractmethod
from pathlib import Path

import torch

from ._types import DataError

CACHE_KINDS = ("auto", "ram", "disk", "none")
CACHE_HELP = ("Preprocessed-image cache: ram, disk (a file under the run's cache folder), none (decode every "
              "time), or auto: ram when a split fits in a quarter of this machine's memory, else disk.")


def memory_bytes() -> int:
    """Physical memory of this machine."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


# Where a ``ram`` cache's shared memory lives.
SHARED_MEMORY = Path("/dev/shm")


def shared_memory_bytes() -> int:
    """Free space for shared memory: that of /dev/shm where it exists, else the physical memory."""
    return shutil.disk_usage(SHARED_MEMORY).free if SHARED_MEMORY.is_dir() else memory_bytes()


def _gib(nbytes: float) -> str:
    return f"{nbytes / 2**30:.1f} GiB"


def resolve_cache(kind: str, nbytes: int) -> str:
    """``auto`` → ``ram`` when ``nbytes`` fits in a quarter of the memory (and in the free shared memory), else
    ``disk``; others unchanged."""
    if kind not in CACHE_KINDS:
        raise ValueError(f"--cache {kind!r}: choose one of {', '.join(CACHE_KINDS)}")
    if kind == "auto":
        return "ram" if nbytes <= min(memory_bytes() // 4, shared_memory_bytes()) else "disk"
    return kind


def check_cache_space(kind: str, count: int, shape: tuple[int, ...], folder: Path | None = None) -> None:
    """Refuse, before anything is allocated, a ``ram`` cache larger than the free shared memory or a ``disk``
    cache larger than the free space of ``folder``: ``count`` records of uint8 ``shape``."""
    nbytes = count * math.prod(shape)
    record = "x".join(map(str, shape))
    if kind == "ram" and nbytes > shared_memory_bytes():
        raise DataError(f"--cache ram: {count} items of {record} bytes need {_gib(nbytes)}, more than the "
                        f"{_gib(shared_memory_bytes())} of shared memory free here; use --cache disk or none, or "
                        f"a smaller --image-size")
    if kind == "disk" and folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(folder).free
        if nbytes > free:
            raise DataError(f"--cache disk: {count} items of {record} bytes need {_gib(nbytes)}, more than the "
                            f"{_gib(free)} free in {folder}; use --cache none or a smaller --image-size")


def check_batch_memory(batch_size: int, input_shape: tuple[int, ...]) -> None:
    """Refuse a batch whose float32 inputs alone fill more than half of this machine's memory (a 3D
    ``--image-size`` too large to train): ``input_shape`` is one input's (C, *spatial)."""
    nbytes = batch_size * math.prod(input_shape) * 4
    if nbytes > memory_bytes() // 2:
        side = "x".join(map(str, input_shape[1:]))
        raise DataError(f"--image-size {input_shape[-1]}: one batch of {batch_size} inputs of {side} needs "
                        f"{_gib(nbytes)} for its values alone, more than half of this machine's "
                        f"{_gib(memory_bytes())}; use a smaller --image-size or --batch-size")


class ItemCache(ABC):
    """``count`` records of uint8 ``shape``; a one-channel item in a multi-channel cache is stored repeated, an
    item with more channels than the cache is not stored (it is decoded each time)."""

    def __init__(self, count: int, shape: tuple[int, ...]) -> None:
        self.count, self.shape = count, tuple(shape)

    def fits(self, x: torch.Tensor) -> torch.Tensor | None:
        """``x`` shaped as a record, or ``None`` when it cannot be stored."""
        if tuple(x.shape) == self.shape:
            return x
        if x.shape[0] == 1 and tuple(x.shape[1:]) == self.shape[1:]:
            return x.expand(self.shape)
        return None

    @abstractmethod
    def get(self, i: int) -> torch.Tensor | None:
        """Record ``i``, or ``None`` where it was not stored yet."""

    @abstractmethod
    def put(self, i: int, x: torch.Tensor) -> None:
        """Store item ``i`` (uint8 (C, *spatial)) where it fits."""


class RamCache(ItemCache):
    def __init__(self, count: int, shape: tuple[int, ...]) -> None:
        super().__init__(count, shape)
        self.data = torch.empty((count, *shape), dtype=torch.uint8).share_memory_()
        self.filled = torch.zeros(count, dtype=torch.bool).share_memory_()

    def get(self, i: int) -> torch.Tensor | None:
        return self.data[i] if self.filled[i] else None

    def put(self, i: int, x: torch.Tensor) -> None:
        record = self.fits(x)
        if record is not None:
            self.data[i] = record
            self.filled[i] = True


class DiskCache(ItemCache):
    """Records back to back, then one filled flag byte per record; the file is opened once per process."""

    def __init__(self, path: Path, count: int, shape: tuple[int, ...]) -> None:
        super().__init__(count, shape)
        self.path = Path(path)
        self.record = math.prod(shape)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        size = count * (self.record + 1)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if os.fstat(fd).st_size != size:
                os.ftruncate(fd, 0)
                os.ftruncate(fd, size)
        finally:
            os.close(fd)
        self._fd: int | None = None
        self._pid = -1

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_fd": None, "_pid": -1}

    def _file(self) -> int:
        if self._pid != os.getpid():
            self._fd, self._pid = os.open(self.path, os.O_RDWR), os.getpid()
        assert self._fd is not None
        return self._fd

    def get(self, i: int) -> torch.Tensor | None:
        fd = self._file()
        if os.pread(fd, 1, self.count * self.record + i) != b"\x01":
            return None
        data = os.pread(fd, self.record, i * self.record)
        return torch.frombuffer(bytearray(data), dtype=torch.uint8).view(self.shape)

    def put(self, i: int, x: torch.Tensor) -> None:
        record = self.fits(x)
        if record is not None:
            fd = self._file()
            os.pwrite(fd, record.contiguous().numpy().tobytes(), i * self.record)
            os.pwrite(fd, b"\x01", self.count * self.record + i)

    def __del__(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)


def disk_cache_path(folder: Path, *parts: object) -> Path:
    """The cache file in ``folder`` for the items and settings ``parts`` (digest, size, policy, shape)."""
    key = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=12).hexdigest()
    return Path(folder) / f"{key}.u8"
