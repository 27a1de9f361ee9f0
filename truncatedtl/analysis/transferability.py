"""How much each cut point's features change in finetuning, against random features of the same size.

The paper's transferability analysis (§III-C, §IV-G): SVCCA coefficients between the pretrained and the
finetuned features at every cut point, beside those between random features of the same shapes (the level
of "no shared structure" at that size); per-block curves; and block-to-block correlations inside each model
(the last block against the two before it: B2–B4 and B3–B4 for ResNet) before and after finetuning.

The random baseline beside a comparison of shapes (n, p) and (n, q) draws both sides i.i.d. standard
normal at those shapes (``random_baseline``), seeded by ``baseline_seed(seed, cut)`` or
``baseline_seed(seed, a, b)``. Results are plain dataclasses saved as JSON, so that plots and the cut-point
detector read records, not models.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..backbones import Backbone, CutPoint
from ..files import write_json
from ..surgery import Network
from .capture import Progress, capture
from .svcca import CrossCovariance, overlap, random_baseline

MODELS = ("pretrained", "finetuned")


@dataclass(frozen=True)
class CutCorrelation:
    """Cut point ``cut``: SVCCA ``coefficients`` pretrained vs finetuned and ``random`` ones of the same
    shapes (both descending), linear CKA, and the ``overlap`` of the two coefficient distributions."""

    cut: int
    block: int
    block_end: bool
    channels: tuple[int, int]
    data_points: int
    coefficients: tuple[float, ...]
    random: tuple[float, ...]
    cka: float
    overlap: float


@dataclass(frozen=True)
class BlockCorrelation:
    """Inside one ``model``: features closing ``blocks`` (a, b) at cut points ``cuts`` against each other."""

    model: str
    blocks: tuple[int, int]
    cuts: tuple[int, int]
    channels: tuple[int, int]
    data_points: int
    coefficients: tuple[float, ...]
    random: tuple[float, ...]
    cka: float


@dataclass(frozen=True)
class Transferability:
    """The whole analysis of one finetuned network against its reference; ``save``/``load`` as JSON."""

    backbone: str
    reference: str
    finetuned: str
    data: str
    samples: int
    positions: int
    seed: int
    keep: float
    cuts: tuple[CutCorrelation, ...]
    blocks: tuple[BlockCorrelation, ...]

    def per_block(self) -> list[CutCorrelation]:
        """The cut points that close a block: the paper's per-block comparison (Fig. 5)."""
        return [c for c in self.cuts if c.block_end]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> Transferability:
        cuts = tuple(CutCorrelation(**_tuples(c, ("channels", "coefficients", "random"))) for c in values["cuts"])
        blocks = tuple(BlockCorrelation(**_tuples(b, ("blocks", "cuts", "channels", "coefficients", "random")))
                       for b in values["blocks"])
        return cls(**{**values, "cuts": cuts, "blocks": blocks})

    def save(self, path: Path) -> None:
        write_json(Path(path), self.to_dict())

    @classmethod
    def load(cls, path: Path) -> Transferability:
        try:
            return cls.from_dict(json.loads(Path(path).read_text()))
        except (KeyError, TypeError, json.JSONDecodeError) as err:
            raise ValueError(f"{path} is not a transferability record: {err}") from err


def _tuples(values: dict, keys: tuple[str, ...]) -> dict:
    """JSON lists back to the tuples the dataclasses hold."""
    return {**values, **{k: tuple(values[k]) for k in keys}}


def block_pairs(cut_points: list[CutPoint]) -> list[tuple[int, int]]:
    """Cut points closing the two blocks before the last one, each paired with the last block's end."""
    ends = {p.block: p.index for p in cut_points if p.block_end}
    blocks = sorted(ends)
    if len(blocks) < 3:
        return []
    return [(ends[b], ends[blocks[-1]]) for b in blocks[-3:-1]]


def baseline_seed(*parts: int) -> int:
    """The seed of a random baseline, from the analysis seed and the cut point(s) it stands beside."""
    return int(np.random.SeedSequence(list(parts)).generate_state(1)[0])


def _floats(values: np.ndarray) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


def transferability(
    pretrained: Network,
    finetuned: Network,
    loader: Iterable,
    backbone: Backbone,
    *,
    positions: int = 16,
    seed: int = 0,
    keep: float = 0.99,
    device: str = "cpu",
    progress: Progress | None = None,
) -> Transferability:
    """SVCCA of ``finetuned`` against ``pretrained`` at every cut point both have, with random baselines.

    ``loader`` yields the input batches (already preprocessed as the finetuned network expects);
    ``positions`` and ``seed`` set the subsampling of spatial positions (see ``capture``); ``keep`` is
    the share of variance PCA keeps before CCA. Both networks are moved to ``device`` and put in eval mode.
    The record's ``reference``, ``finetuned`` and ``data`` labels are generic; callers that know more set
    them with ``dataclasses.replace``.
    """
    points = backbone.cut_points
    captured = capture(pretrained.body, finetuned.body, loader, positions=positions, seed=seed,
                       within=block_pairs(points), device=device, progress=progress)
    cuts = []
    for k, stats in enumerate(captured.cuts):
        coefficients, random = _with_baseline(stats, keep, baseline_seed(seed, k))
        cuts.append(CutCorrelation(cut=k, block=points[k].block, block_end=points[k].block_end,
                                   channels=_channels(stats), data_points=stats.n, coefficients=coefficients,
                                   random=random, cka=stats.cka(), overlap=overlap(coefficients, random)))
    blocks = []
    for model, name in zip(MODELS, ("reference", "other")):
        for (a, b), stats in captured.within[name].items():
            coefficients, random = _with_baseline(stats, keep, baseline_seed(seed, a, b))
            blocks.append(BlockCorrelation(model=model, blocks=(points[a].block, points[b].block), cuts=(a, b),
                                           channels=_channels(stats), data_points=stats.n,
                                           coefficients=coefficients, random=random, cka=stats.cka()))
    return Transferability(backbone=backbone.name, reference="pretrained", finetuned="finetuned", data="",
                           samples=captured.samples, positions=positions, seed=seed, keep=keep,
                           cuts=tuple(cuts), blocks=tuple(blocks))


def _channels(stats: CrossCovariance) -> tuple[int, int]:
    return stats.xy.shape[0], stats.xy.shape[1]


def _with_baseline(stats: CrossCovariance, keep: float, seed: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """SVCCA coefficients of ``stats`` and of random features of the same shapes."""
    p, q = _channels(stats)
    random = random_baseline((stats.n, p), (stats.n, q), seed, keep)
    return _floats(stats.coefficients(keep)), _floats(random)
