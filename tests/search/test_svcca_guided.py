import json

from truncatedtl.analysis.transferability import CutCorrelation
from truncatedtl.search import search
from truncatedtl.search.svcca_guided import first_overlap, reuse_overlap

from .tiny import settings, tiny_base


def test_first_overlap_is_the_first_cut_reaching_the_threshold():
    overlaps = [(0, 0.0), (1, 0.2), (2, 0.6), (3, 0.4), (4, 0.9)]
    assert first_overlap(overlaps, 0.5) == 2
    assert first_overlap(overlaps, 0.6) == 2
    assert first_overlap(overlaps, 0.7) == 4
    assert first_overlap(overlaps, 0.95) is None


def cut(coefficients, random, overlap):
    return CutCorrelation(cut=3, block=2, block_end=False, channels=(4, 4), data_points=100,
                          coefficients=coefficients, random=random, cka=0.5, overlap=overlap)


def test_coefficients_below_the_random_ones_count_as_full_overlap():
    assert reuse_overlap(cut((0.9, 0.8), (0.3, 0.2), 0.0)) == 0.0
    assert reuse_overlap(cut((0.6, 0.3), (0.5, 0.2), 0.5)) == 0.5
    assert reuse_overlap(cut((0.4, 0.3), (0.9, 0.8), 0.0)) == 1.0


def test_two_trainings_and_the_cut_the_rule_gives(tmp_path):
    out = tmp_path / "svcca"
    report = search(tiny_base(), settings("svcca", overlap_threshold=0.3, svcca_rule="first-overlap"), out)
    rule = json.loads((out / "records" / "svcca_rule.json").read_text())
    overlaps = [(p["cut"], p["overlap"]) for p in rule["per_cut"]]
    assert [c for c, _ in overlaps] == list(range(9))
    found = first_overlap(overlaps, 0.3)
    assert rule["fallback"] == (found is None)
    if found is not None:
        assert report["trials"] == 2 and report["chosen_cut"] == found
        assert "first cut point where" in report["reason"]
    else:  # the stated fallback: a stage-1 pass over the block boundaries
        assert report["trials"] == 5 and "fallback" in report["reason"]
    assert report["method"] == "svcca" and "rule first-overlap" in report["svcca"]["rule"]
    assert report["chosen"]["trials"] == [f"ttl-k{report['chosen_cut']:03d}-s0"]
    assert [row["cut"] for row in report["scores_by_cut"]] == list(range(9))
    assert (out / "records" / "svcca.json").is_file()
