from truncatedtl.search.exhaustive import exhaustive

from .fake import fake_session


def test_every_cut_point_is_tried_and_the_best_wins():
    scores = {k: 0.5 + 0.01 * k for k in range(9)} | {5: 0.9, 6: 0.9}
    session, asked = fake_session("exhaustive", scores)
    choice = exhaustive(session, session.settings)
    assert choice.cut == 5  # ties go to the smaller, cheaper cut
    assert sorted(t.cut for t in asked if t.strategy == "ttl") == list(range(9))
