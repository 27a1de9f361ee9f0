"""Stratified, seeded splitting and subsetting."""

from __future__ import annotations

import numpy as np

from ._types import DataError, DataSplits, Samples


def strata(labels: np.ndarray) -> np.ndarray:
    """One stratum key per sample: the class, or the label combination for multi-label data."""
    if labels.ndim == 1:
        return labels
    _, keys = np.unique(labels, axis=0, return_inverse=True)
    return keys.reshape(-1)


def stratified_partition(labels: np.ndarray, fractions: list[float], seed: int) -> list[np.ndarray]:
    """Indices split into parts of the given ``fractions`` (summing to 1), class proportions kept."""
    rng = np.random.default_rng(seed)
    keys = strata(labels)
    parts: list[list[int]] = [[] for _ in fractions]
    bounds = np.cumsum(fractions)[:-1]
    for key in np.unique(keys):
        members = rng.permutation(np.flatnonzero(keys == key))
        cuts = np.round(bounds * len(members)).astype(int)
        for part, chunk in zip(parts, np.split(members, cuts)):
            part.extend(chunk.tolist())
    return [np.sort(np.asarray(p, dtype=int)) for p in parts]


def stratified_limit(samples: Samples, limit: int, seed: int) -> Samples:
    """At most ``limit`` samples, class proportions kept, every class present at least once."""
    if len(samples) <= limit:
        return samples
    rng = np.random.default_rng(seed)
    keys = strata(samples.labels)
    classes, counts = np.unique(keys, return_counts=True)
    quota = np.maximum(1, np.floor(counts / counts.sum() * limit)).astype(int)
    while quota.sum() > limit:
        quota[np.argmax(quota)] -= 1
    for i in np.argsort(-counts):
        if quota.sum() >= limit:
            break
        quota[i] = min(counts[i], quota[i] + limit - quota.sum())
    chosen = [rng.permutation(np.flatnonzero(keys == c))[:q] for c, q in zip(classes, quota)]
    return samples.subset(np.sort(np.concatenate(chosen)))


def check_limit(limit: int | None) -> None:
    """``--limit`` caps each split: it must keep at least one sample."""
    if limit is not None and limit < 1:
        raise DataError(f"--limit must be at least 1 (samples per split), got {limit}")


def check_classes(data: DataSplits, allow_missing: bool = False) -> None:
    """Every split must hold at least two classes (per label for multi-label): AUROC is undefined otherwise.
    With three or more classes, every class must occur in every split (a missing class would score AUROC 0
    inside the macro average) unless ``allow_missing``: metrics then average over the classes present, and a
    note records which were left out."""
    for split, samples in data.splits().items():
        if len(samples) == 0:
            raise DataError(f"split '{split}' of {data.source} is empty")
        labels = samples.labels
        if labels.ndim == 1:
            present = np.unique(labels)
            if len(present) < 2:
                raise DataError(f"split '{split}' of {data.source} holds one class only "
                                f"({data.classes[int(present[0])]}): AUROC/AUPRC are undefined there")
            missing = [name for c, name in enumerate(data.classes) if c not in present]
            if missing and not allow_missing:
                raise DataError(f"split '{split}' of {data.source} has no sample of class {', '.join(missing)}: its "
                                f"macro AUROC/AUPRC would count that class as 0; rebalance the split or pass "
                                f"--allow-missing-classes (averages over the classes present)")
            if missing:
                data.notes.append(f"{split}: class {', '.join(missing)} absent, left out of the averages "
                                  f"(--allow-missing-classes)")
        else:
            for c, name in enumerate(data.classes):
                known = labels[:, c][labels[:, c] >= 0]  # -1: masked by an uncertain-label policy
                if len(np.unique(known)) < 2:
                    raise DataError(f"split '{split}' of {data.source}: label '{name}' takes one value only "
                                    f"(masked uncertain entries aside), AUROC/AUPRC are undefined there")
