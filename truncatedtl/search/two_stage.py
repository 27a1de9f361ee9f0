"""Two-stage search (paper §III-B): stage 1 tries every block boundary; stage 2 tries the other cut points
within ``radius`` of the best boundary that lie in its block or the next; among both stages the ``--select``
rule picks (the best mean validation AUPRC, or the smallest cut within one standard error of it)."""

from __future__ import annotations

from ..backbones import Backbone
from .session import Choice, SearchSettings, Session, best, select


def neighbours(backbone: Backbone, boundary: int, radius: int, allowed: list[int] | None = None) -> list[int]:
    """Cut points that are not block boundaries, at most ``radius`` away from ``boundary``, in its block or
    the next (and among ``allowed``, when given)."""
    block = backbone.cut_points[boundary].block
    return [p.index for p in backbone.cut_points
            if not p.block_end and abs(p.index - boundary) <= radius and p.block in (block, block + 1)
            and (allowed is None or p.index in allowed)]


def block_boundaries(session: Session) -> list[int]:
    """The block boundaries the searched strategy can train at."""
    return [b for b in session.backbone.block_ends if b in session.cuts]


def two_stage(session: Session, settings: SearchSettings) -> Choice:
    boundaries = block_boundaries(session)
    stage1 = session.score(boundaries, "stage 1: block boundaries")
    coarse = best(stage1)
    near = neighbours(session.backbone, coarse.cut, settings.radius, session.cuts)
    stage2 = session.score(near, f"stage 2: within {settings.radius} of cut {coarse.cut}") if near else []
    winner = best(stage1 + stage2)
    chosen, how = select(stage1 + stage2, settings.select)
    scores = {s.cut: s.mean for s in stage1 + stage2}
    reason = (f"best block boundary: cut {coarse.cut} ({session.score_label} {coarse}) among "
              f"{', '.join(map(str, boundaries))}; ")
    if not near:
        reason += "no cut point lies within the radius for stage 2"
    else:
        reason += (f"stage 2 tried {', '.join(map(str, near))}; best overall: cut {winner.cut} ({session.score_label} "
                   f"{winner})")
    return Choice(chosen.cut, f"{reason}; {how}", scores, winner.cut)
