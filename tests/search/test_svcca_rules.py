"""The two SVCCA rules on hand-built overlap profiles; the expected cuts are read off the profiles by eye."""

from truncatedtl.search.svcca_guided import apply_rule, first_overlap, last_before

# Shaped like the paper's BIMCV example: reuse fades after cut 12, from 13 on the coefficients look random.
BIMCV_LIKE = [(k, v) for k, v in enumerate(
    [0.0, 0.0, 0.01, 0.02, 0.02, 0.05, 0.08, 0.1, 0.12, 0.2, 0.25, 0.3, 0.41, 0.62, 0.7, 0.66, 0.9])]
# A dip back below the threshold after the first overlap does not move either rule.
DIP = [(0, 0.0), (1, 0.05), (2, 0.1), (3, 0.2), (4, 0.3), (5, 0.55), (6, 0.7), (7, 0.4), (8, 0.9)]


def test_first_overlap_and_last_before_on_hand_built_profiles():
    assert first_overlap(BIMCV_LIKE, 0.5) == 13
    assert last_before(BIMCV_LIKE, 0.5) == 12
    assert first_overlap(DIP, 0.5) == 5
    assert last_before(DIP, 0.5) == 4
    assert apply_rule("first-overlap", DIP, 0.35) == 5 and apply_rule("last-before", DIP, 0.35) == 4
    assert apply_rule("last-before", DIP, 0.25) == 3


def test_candidates_need_not_start_at_zero_and_the_rules_can_find_nothing():
    lwft_like = [(3, 0.1), (4, 0.2), (6, 0.6), (7, 0.8)]  # cut 5 is not a candidate
    assert last_before(lwft_like, 0.5) == 4 and first_overlap(lwft_like, 0.5) == 6
    assert last_before([(0, 0.7), (1, 0.9)], 0.5) is None  # nothing before the first cut
    assert first_overlap(DIP, 0.95) is None and last_before(DIP, 0.95) is None
