"""Two-stage search (paper §III-B): stage 1 tries every block boundary; stage 2 tries the other cut points
within ``radius`` of the best boundary that lie in its block or the next; the best of both stages by mean
validation AUPRC wins."""

from __future__ import annotations

from ..backbones import Backbone
from .session import Choice, SearchSettings, Session, best


def neighbours(backbone: Backbone, boundary: int, radius: int) -> list[int]:
    """Cut points that are not block boundaries, at most ``radius`` away from ``boundary``, in its block or
    the next."""
    block = backbone.cut_points[boundary].block
    return [p.index for p in backbone.cut_points
            if not p.block_end and abs(p.index - boundary) <= radius and p.block in (block, block + 1)]


def two_stage(session: Session, settings: SearchSettings) -> Choice:
    boundaries = session.backbone.block_ends
    stage1 = session.score(boundaries, "stage 1: block boundaries")
    coarse = best(stage1)
    near = neighbours(session.backbone, coarse.cut, settings.radius)
    stage2 = session.score(near, f"stage 2: within {settings.radius} of cut {coarse.cut}") if near else []
    winner = best(stage1 + stage2)
    reason = (f"best block boundary: cut {coarse.cut} (val AUPRC {coarse.mean:.4f} ± {coarse.std:.4f}) among "
              f"{', '.join(map(str, boundaries))}; ")
    if not near:
        return Choice(winner.cut, reason + "no cut point lies within the radius for stage 2")
    return Choice(winner.cut, reason + f"stage 2 tried {', '.join(map(str, near))}; best overall: cut "
                                       f"{winner.cut} (val AUPRC {winner.mean:.4f} ± {winner.std:.4f})")
