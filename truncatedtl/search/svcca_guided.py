"""SVCCA-guided search (paper §IV-G): two trainings instead of a search over many cut points.

1. Train FTL (every search does, with its repeats; the analysis uses the seed-0 model).
2. At every cut point, SVCCA coefficients between the pretrained and the finetuned features on the
   validation images (``analysis.transferability``).
3. At every cut point, SVCCA coefficients between random features of the same shapes.
4. The statistic: the **overlap** of the two coefficient distributions, ``1 − |Cliff's δ|`` (``analysis.svcca
   .overlap``): 0 when every pretrained-vs-finetuned coefficient lies above every random one (the features
   are reused), 1 when neither distribution tends to lie above the other (the features were re-learned).
   Where the pretrained-vs-finetuned coefficients lie below the random ones on average (random features
   correlate more as the channels grow relative to the data points), the overlap counts as 1: there is no
   less reuse than none. A cut point *overlaps* where the overlap reaches the threshold
   (``--overlap-threshold``, default 0.5, i.e. |δ| ≤ 0.5). ``--svcca-rule`` then chooses:
   - ``last-before`` (default, chosen by ``docs/results/search_cost.md``: nearer the exhaustive best on mean
     and worst validation gap over its four datasets): the last cut point before the first overlapping one —
     the last that still reuses pretrained features, as the paper's worked examples read (BIMCV: reuse limited
     after point 12 → cut 12; PE: cut 30, block 4 near random);
   - ``first-overlap``: the first overlapping cut point (the literal step 4).
   Where no cut point overlaps (or ``last-before`` finds the very first candidate overlapping), the rule
   gives no cut: the search says so and falls back to a stage-1 pass, training every block boundary and
   keeping the best by validation AUPRC.
5. Train the strategy at that cut (every repeat).

Only the cut points the searched strategy can train at are candidates. The analysis is kept in
``records/svcca.json`` (the record ``ttl analyze`` writes) and the rule's outcome in
``records/svcca_rule.json``, so a resumed search does not recompute it and the report is drawn from them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..analysis.transferability import CutCorrelation, Transferability, transferability
from ..engine import RunConfig
from ..engine.run import spec_of
from ..record import TrialRecord
from ..tasks import build_network
from .session import Choice, SearchSettings, Session, best
from .two_stage import block_boundaries

ANALYSIS = "svcca"
RULE = "svcca_rule"
RULES = ("last-before", "first-overlap")


def first_overlap(overlaps: list[tuple[int, float]], threshold: float) -> int | None:
    """The first cut (of ``(cut, overlap)`` pairs in cut order) whose overlap reaches ``threshold``."""
    return next((cut for cut, value in overlaps if value >= threshold), None)


def last_before(overlaps: list[tuple[int, float]], threshold: float) -> int | None:
    """The cut just before the first one whose overlap reaches ``threshold``; ``None`` where no cut reaches it
    or the first cut already does."""
    first = first_overlap(overlaps, threshold)
    cuts = [cut for cut, _ in overlaps]
    return None if first is None or first == cuts[0] else cuts[cuts.index(first) - 1]


def apply_rule(rule: str, overlaps: list[tuple[int, float]], threshold: float) -> int | None:
    """The cut ``rule`` (one of ``RULES``) picks from ``(cut, overlap)`` pairs in cut order, or ``None``."""
    return {"last-before": last_before, "first-overlap": first_overlap}[rule](overlaps, threshold)


def reuse_overlap(cut: CutCorrelation) -> float:
    """Step 4's statistic at one cut point: the overlap of its coefficient distributions, 1 where the
    pretrained-vs-finetuned ones lie below the random ones on average."""
    return 1.0 if np.mean(cut.coefficients) <= np.mean(cut.random) else cut.overlap


def analyse(session: Session, ftl_record: TrialRecord) -> Transferability:
    """Steps 2–3 on the FTL model of ``ftl_record`` against the pretrained backbone, on validation images."""
    from safetensors.torch import load_file

    base, prepared = session.base, session.prepared
    config = RunConfig.from_dict(ftl_record.config)
    spec = spec_of(config, ftl_record)
    pretrained = build_network(spec, prepared.backbone)
    finetuned = build_network(spec, prepared.backbone)
    finetuned.load_state_dict(load_file(str(session.store.root / ftl_record.checkpoint)))
    result = transferability(pretrained, finetuned, prepared.loader("val", config), prepared.backbone,
                             device=base.device)
    return replace(result, reference=f"{base.backbone} ({base.weights})", finetuned=ftl_record.trial,
                   data=f"{base.data} (validation split)")


def svcca_guided(session: Session, settings: SearchSettings) -> Choice:
    ftl = session.ftl()[0]
    path = session.store.records_dir / f"{ANALYSIS}.json"
    if path.is_file():
        analysis = Transferability.load(path)
    else:
        analysis = analyse(session, ftl)
        analysis.save(path)
    threshold, rule = settings.overlap_threshold, settings.svcca_rule
    candidates = [c for c in analysis.cuts if c.cut in session.cuts]
    overlaps = [(c.cut, reuse_overlap(c)) for c in candidates]
    found = apply_rule(rule, overlaps, threshold)
    wording = {"last-before": "last cut point before the first one where",
               "first-overlap": "first cut point where"}[rule]
    statement = (f"Overlap = 1 − |Cliff's δ| between the SVCCA coefficients of pretrained vs finetuned features and "
                 f"those of random features of the same shapes, at each cut point (validation images, FTL seed "
                 f"{ftl.seed}), and 1 where the former lie below the latter on average; rule {rule}: the "
                 f"{wording} the two distributions overlap by at least {threshold:g}.")
    if found is None:
        first = first_overlap(overlaps, threshold)
        why = (f"no cut point's SVCCA coefficients (pretrained vs finetuned) overlap those of random features by "
               f"{threshold:g} or more (highest {max(v for _, v in overlaps):.3f})" if first is None else
               f"the first candidate cut point ({first}) already overlaps random features by {threshold:g}, so no cut "
               f"lies before it")
        stage1 = session.score(block_boundaries(session), "fallback: stage 1, block boundaries")
        winner = best(stage1)
        cut = winner.cut
        reason = (f"SVCCA rule {rule} gives no cut: {why}; fallback: best block boundary of a stage-1 pass, cut "
                  f"{cut} ({session.score_label} {winner})")
    else:
        cut = found
        reason = f"{wording} the SVCCA coefficients of pretrained vs finetuned features overlap those of random " \
                 f"features by at least {threshold:g} (overlap at cut {cut}: {dict(overlaps)[cut]:.3f})"
    session.store.put(RULE, {
        "threshold": threshold, "svcca_rule": rule, "chosen_cut": cut, "fallback": found is None,
        "reference_trial": ftl.trial, "rule": statement,
        "per_cut": [{"cut": c.cut, "block_end": c.block_end, "finetuned_mean": float(np.mean(c.coefficients)),
                     "random_mean": float(np.mean(c.random)), "overlap": value}
                    for c, (_, value) in zip(candidates, overlaps)]})
    if found is not None:
        session.score([cut], "step 5: train at the detected cut")
    return Choice(cut, reason, {c: 1 - value for c, value in overlaps})
