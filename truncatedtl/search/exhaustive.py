"""Exhaustive search: every cut point, the yardstick for the cheaper methods."""

from __future__ import annotations

from .session import Choice, SearchSettings, Session, best


def exhaustive(session: Session, settings: SearchSettings) -> Choice:
    scores = session.score(session.cuts, "every cut point")
    winner = best(scores)
    return Choice(winner.cut, f"best of all {len(scores)} cut points by {session.score_label}: cut {winner.cut} "
                              f"({winner.mean:.4f} ± {winner.std:.4f})", {s.cut: s.mean for s in scores})
