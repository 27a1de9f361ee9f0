from truncatedtl.search.exhaustive import exhaustive

from .fake import fake_session


def test_every_cut_point_is_tried_and_the_best_wins():
    scores = {k: 0.5 + 0.01 * k for k in range(9)} | {5: 0.9, 6: 0.9}
    session, asked = fake_session("exhaustive", scores)
    choice = exhaustive(session, session.settings)
    assert choice.cut == 5  # ties go to the smaller, cheaper cut
    assert sorted(t.cut for t in asked if t.strategy == "ttl") == list(range(8))  # cut 8: FTL's network
    assert choice.best_cut == 5 and session.no_truncation(8) and not session.no_truncation(7)


def test_smallest_within_noise_takes_the_smallest_cut_within_one_standard_error():
    from truncatedtl.search.session import CutScore, select

    scores = [CutScore(2, 0.80, 0.02, 0.01), CutScore(3, 0.909, 0.02, 0.01), CutScore(4, 0.91, 0.03, 0.02),
              CutScore(6, 0.92, 0.02, 0.012)]
    chosen, how = select(scores, "smallest-within-noise")
    assert chosen.cut == 3 and "best-scoring cut 6" in how and "at least 0.9080" in how
    assert select(scores, "best")[0].cut == 6
    unknown = [CutScore(2, 0.8, 0.0), CutScore(3, 0.9, 0.0)]
    assert select(unknown, "smallest-within-noise")[0].cut == 3  # no standard error: the best
    assert str(unknown[0]) == "0.8000 (one seed)" and str(scores[0]) == "0.8000 ± 0.0200"


def test_the_rule_and_the_best_scoring_cut_are_part_of_the_choice():
    scores = {k: 0.5 + 0.01 * k for k in range(8)}
    session, _ = fake_session("exhaustive", scores, repeats=2, select="smallest-within-noise")
    choice = exhaustive(session, session.settings)
    assert choice.best_cut == 7 and choice.cut == 7  # two identical repeats: standard error 0
    assert "rule smallest-within-noise" in choice.reason
