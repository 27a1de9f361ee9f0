"""Exhaustive search: every cut point, the yardstick for the cheaper methods."""

from __future__ import annotations

from .session import Choice, SearchSettings, Session, best, select


def exhaustive(session: Session, settings: SearchSettings) -> Choice:
    scores = session.score(session.cuts, "every cut point")
    top = best(scores)
    chosen, how = select(scores, settings.select)
    return Choice(chosen.cut, f"best of all {len(scores)} cut points by {session.score_label}: cut {top.cut} "
                              f"({top}); {how}", {s.cut: s.mean for s in scores}, top.cut)
