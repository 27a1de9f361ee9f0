"""Features at the cut points of two networks on the same inputs, streamed into SVCCA statistics.

A network is seen through its body: a chain whose child k outputs the features at cut point k
(``Network.body``); forward hooks on those children catch the features. Conv features become matrices
(data points, neurons): channels are the neurons, every (sample, spatial position) is a data point.

Positions are subsampled so that the analysis stays tractable at any resolution: for every sample and cut
point, at most ``positions`` spatial positions are kept, drawn uniformly without replacement from a
``torch.Generator`` seeded with ``seed`` (maps with fewer positions keep them all). Both networks see the
same positions of the same samples, so their rows pair up. Comparing two cut points of one network (block
to block) first average-pools the finer map to the coarser one's spatial size, so that a position means
the same image region on both sides, then subsamples the same way.

Both networks run in lock-step, one pass over the data each; every batch is reduced to data points as it
leaves a cut point and added to ``CrossCovariance`` accumulators, so memory depends on the batch size and
the channels, never on the number of samples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from .svcca import CrossCovariance

Progress = Callable[[int, int | None], None]


@dataclass
class Captured:
    """Streaming statistics of one capture.

    ``cuts[k]``: features at cut point k of the reference (x) against the other network (y).
    ``within``: per network (``"reference"``, ``"other"``), cut-point pair (a, b) → features at a (x)
    against features at b (y) of that network. Each statistic's ``n`` counts the data points behind it.
    """

    samples: int
    cuts: list[CrossCovariance]
    within: dict[str, dict[tuple[int, int], CrossCovariance]] = field(default_factory=dict)


class _Positions:
    """The spatial positions kept in the current batch, drawn once per key and shared by both networks."""

    def __init__(self, per_sample: int, seed: int) -> None:
        self.per_sample = per_sample
        self.generator = torch.Generator().manual_seed(seed)
        self.drawn: dict[object, tuple[int, torch.Tensor]] = {}

    def next_batch(self) -> None:
        self.drawn.clear()

    def take(self, key: object, features: torch.Tensor) -> torch.Tensor:
        """Features (b, c, *spatial) → data points (b · m, c), m = min(per_sample, positions in the map)."""
        batch, channels = features.shape[:2]
        flat = features.reshape(batch, channels, -1)
        count = flat.shape[2]
        if key not in self.drawn:
            kept = min(self.per_sample, count)
            order = torch.rand(batch, count, generator=self.generator).argsort(1)
            self.drawn[key] = (count, order[:, :kept])
        drawn_count, index = self.drawn[key]
        if drawn_count != count or index.shape[0] != batch:
            raise ValueError(f"features at {key} differ in size between the two networks "
                             f"({drawn_count} vs {count} positions); they cannot be compared point by point")
        index = index.to(flat.device).unsqueeze(1).expand(batch, channels, index.shape[1])
        return flat.gather(2, index).transpose(1, 2).reshape(-1, channels)


def _pool_to(fine: torch.Tensor, coarse: torch.Tensor) -> torch.Tensor:
    """``fine`` (b, c, *spatial) average-pooled to the spatial size of ``coarse``."""
    size = coarse.shape[2:]
    if fine.shape[2:] == size:
        return fine
    pool = F.adaptive_avg_pool2d if fine.ndim == 4 else F.adaptive_avg_pool3d
    return pool(fine, size)


class _Tap:
    """Forward hooks on the first ``depth`` children of a body, keeping this batch's outputs.

    Cut points in ``cuts`` are reduced to data points at once; those in ``maps`` (members of block-to-block
    pairs) are kept whole until the batch's forward pass ends.
    """

    def __init__(self, body: nn.Sequential, depth: int, cuts: int, maps: set[int], positions: _Positions) -> None:
        self.points: dict[int, torch.Tensor] = {}
        self.maps: dict[int, torch.Tensor] = {}
        self.runner = body[:depth]
        self.handles = [body[k].register_forward_hook(self._hook(k, k < cuts, k in maps, positions))
                        for k in range(depth)]

    def _hook(self, k: int, reduce: bool, keep: bool, positions: _Positions) -> Callable:
        def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
            if reduce:
                self.points[k] = positions.take(("cut", k), output)
            if keep:
                self.maps[k] = output

        return hook

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()


def capture(
    reference: nn.Sequential,
    other: nn.Sequential,
    loader: Iterable,
    *,
    positions: int = 16,
    seed: int = 0,
    within: Sequence[tuple[int, int]] = (),
    device: str = "cpu",
    progress: Progress | None = None,
) -> Captured:
    """Stream the features of two bodies on ``loader``'s inputs into SVCCA statistics.

    ``reference`` and ``other``: chains whose child k outputs the features at cut point k; the cut points
    both have are compared. ``within``: cut-point pairs (a, b), a < b, compared inside each network that
    has both. ``loader`` yields input batches (or tuples whose first item is the batch). Both networks are
    moved to ``device`` and put in eval mode. ``progress(batch, batches)`` is called after every batch.
    """
    if positions < 1:
        raise ValueError(f"positions per sample must be at least 1, got {positions}")
    cuts = min(len(reference), len(other))
    for a, b in within:
        if not 0 <= a < b < len(reference):
            raise ValueError(f"block pair ({a}, {b}) is not a pair of cut points a < b of the reference "
                             f"(cut points 0..{len(reference) - 1})")
    bodies = {"reference": reference, "other": other}
    pairs = {name: [(a, b) for a, b in within if b < len(body)] for name, body in bodies.items()}
    sampler = _Positions(positions, seed)
    taps = {name: _Tap(body.to(device).eval(), max([cuts] + [b + 1 for _, b in pairs[name]]), cuts,
                       {k for pair in pairs[name] for k in pair}, sampler)
            for name, body in bodies.items()}
    result = Captured(0, [CrossCovariance() for _ in range(cuts)],
                      {name: {pair: CrossCovariance() for pair in pairs[name]} for name in bodies})
    total = len(loader) if hasattr(loader, "__len__") else None
    try:
        with torch.no_grad():
            for step, batch in enumerate(loader, 1):
                inputs = (batch[0] if isinstance(batch, (tuple, list)) else batch).to(device)
                sampler.next_batch()
                for tap in taps.values():
                    tap.points.clear()
                    tap.maps.clear()
                    tap.runner(inputs)
                for k, stats in enumerate(result.cuts):
                    stats.update(taps["reference"].points[k], taps["other"].points[k])
                for name, tap in taps.items():
                    for (a, b), stats in result.within[name].items():
                        coarse = min(tap.maps[a], tap.maps[b], key=lambda m: m.shape[2:].numel())
                        x, y = (_pool_to(tap.maps[k], coarse) for k in (a, b))
                        stats.update(sampler.take(("pair", a, b), x), sampler.take(("pair", a, b), y))
                result.samples += inputs.shape[0]
                if progress is not None:
                    progress(step, total)
    finally:
        for tap in taps.values():
            tap.close()
    return result


def pooled_features(body: nn.Sequential, loader: Iterable, cuts: Sequence[int],
                    device: str = "cpu") -> dict[int, torch.Tensor]:
    """Features at cut points ``cuts`` of ``body`` (child k outputs cut point k) on ``loader``'s inputs,
    each averaged over its spatial positions: cut k → (samples, channels at k), float64 on the CPU.

    One pass, ``body`` in eval mode up to the deepest cut asked; what estimators and probes read."""
    depth = max(cuts) + 1
    if min(cuts) < 0 or depth > len(body):
        raise ValueError(f"cut points {sorted(cuts)} are not all in 0..{len(body) - 1}")
    body = body.to(device).eval()
    pooled: dict[int, list[torch.Tensor]] = {k: [] for k in cuts}
    with torch.no_grad():
        for batch in loader:
            x = (batch[0] if isinstance(batch, (tuple, list)) else batch).to(device)
            for k in range(depth):
                x = body[k](x)
                if k in pooled:
                    pooled[k].append(x.flatten(2).mean(2).double().cpu())
    return {k: torch.cat(parts) for k, parts in pooled.items()}
