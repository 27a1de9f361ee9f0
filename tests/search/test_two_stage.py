from truncatedtl.backbones import load_backbone
from truncatedtl.search.two_stage import neighbours, two_stage

from .fake import fake_session


def test_neighbours_stay_in_the_block_and_the_next():
    resnet18 = load_backbone("resnet18")  # cut points 0..8, block boundaries 2, 4, 6, 8
    assert neighbours(resnet18, 4, 2) == [3, 5]
    assert neighbours(resnet18, 2, 2) == [1, 3]
    assert neighbours(resnet18, 8, 2) == [7]
    assert neighbours(resnet18, 4, 0) == []
    lite0 = load_backbone("efficientnet_lite0")  # boundaries 1, 3, 5, 8, 11, 15, 16
    assert neighbours(lite0, 8, 2) == [6, 7, 9, 10]
    assert neighbours(lite0, 11, 3) == [9, 10, 12, 13, 14]


def test_stage_two_refines_the_best_boundary():
    scores = {2: 0.6, 4: 0.8, 6: 0.7, 8: 0.55, 3: 0.85, 5: 0.75}
    session, asked = fake_session("two-stage", scores, radius=1)
    choice = two_stage(session, session.settings)
    assert choice.cut == 3
    assert [s.cuts for s in session.stages] == [[2, 4, 6, 8], [3, 5]]
    assert {t.cut for t in asked if t.strategy == "ttl"} == {2, 3, 4, 5, 6}  # ttl at 8 is FTL's network
    assert {t.key for t in asked if t.strategy == "ftl"} == {"ftl-k008-s0"}
    assert "cut 4" in choice.reason and "cut 3" in choice.reason


def test_boundary_wins_when_stage_two_does_not_beat_it():
    session, _ = fake_session("two-stage", {2: 0.6, 4: 0.8, 6: 0.7, 8: 0.55, 3: 0.8, 5: 0.75}, radius=1)
    assert two_stage(session, session.settings).cut == 3  # a tie goes to the smaller cut
    session, _ = fake_session("two-stage", {2: 0.6, 4: 0.8, 6: 0.7, 8: 0.55, 3: 0.7, 5: 0.75}, radius=1)
    assert two_stage(session, session.settings).cut == 4
