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
   less reuse than none. The chosen cut is **the first cut point where the two distributions overlap by at
   least the threshold** (``--overlap-threshold``, default 0.5, i.e. |δ| ≤ 0.5). Where no cut point
   reaches it, feature reuse never became negligible and the last cut point is chosen.
5. Train the strategy at that cut (every repeat).

The analysis is kept in ``records/svcca.json`` (the record ``ttl analyze`` writes) and the rule's outcome in
``records/svcca_rule.json``, so a resumed search does not recompute it and the report is drawn from them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..analysis.transferability import CutCorrelation, Transferability, transferability
from ..engine.run import build_network
from .session import FTL, Choice, SearchSettings, Session

ANALYSIS = "svcca"
RULE = "svcca_rule"


def first_overlap(overlaps: list[tuple[int, float]], threshold: float) -> int | None:
    """The first cut (of ``(cut, overlap)`` pairs in cut order) whose overlap reaches ``threshold``."""
    return next((cut for cut, value in overlaps if value >= threshold), None)


def reuse_overlap(cut: CutCorrelation) -> float:
    """Step 4's statistic at one cut point: the overlap of its coefficient distributions, 1 where the
    pretrained-vs-finetuned ones lie below the random ones on average."""
    return 1.0 if np.mean(cut.coefficients) <= np.mean(cut.random) else cut.overlap


def analyse(session: Session, ftl_record: dict) -> Transferability:
    """Steps 2–3 on the FTL model of ``ftl_record`` against the pretrained backbone, on validation images."""
    from safetensors.torch import load_file

    base, prepared = session.base, session.prepared
    config = replace(base, strategy=FTL, cut=None, seed=ftl_record["seed"])
    classes = prepared.data.num_classes
    pretrained = build_network(config, prepared.backbone, classes)
    finetuned = build_network(config, prepared.backbone, classes)
    finetuned.load_state_dict(load_file(str(session.store.root / ftl_record["checkpoint"])))
    result = transferability(pretrained, finetuned, prepared.loader("val", config), prepared.backbone,
                             device=base.device)
    return replace(result, reference=f"{base.backbone} ({base.weights})", finetuned=ftl_record["trial"],
                   data=f"{base.data} (validation split)")


def svcca_guided(session: Session, settings: SearchSettings) -> Choice:
    ftl = session.ftl()[0]
    path = session.store.records_dir / f"{ANALYSIS}.json"
    if path.is_file():
        analysis = Transferability.load(path)
    else:
        analysis = analyse(session, ftl)
        analysis.save(path)
    threshold = settings.overlap_threshold
    overlaps = [(c.cut, reuse_overlap(c)) for c in analysis.cuts]
    found = first_overlap(overlaps, threshold)
    cut = session.backbone.last_cut if found is None else found
    if found is None:
        reason = (f"no cut point's SVCCA coefficients (pretrained vs finetuned) overlap those of random features by "
                  f"{threshold:g} or more (highest {max(v for _, v in overlaps):.3f}); the last cut point is kept")
    else:
        reason = (f"first cut point where the SVCCA coefficients of pretrained vs finetuned features overlap those "
                  f"of random features by at least {threshold:g} (overlap {dict(overlaps)[cut]:.3f})")
    session.store.put(RULE, {
        "threshold": threshold, "chosen_cut": cut, "reference_trial": ftl["trial"],
        "rule": ("Overlap = 1 − |Cliff's δ| between the SVCCA coefficients of pretrained vs finetuned features and "
                 "those of random features of the same shapes, at each cut point (validation images, FTL seed "
                 f"{ftl['seed']}), and 1 where the former lie below the latter on average; the chosen cut is the "
                 f"first cut point where the two distributions overlap by at least {threshold:g} (the last cut "
                 "point where none does)."),
        "per_cut": [{"cut": c.cut, "block_end": c.block_end, "finetuned_mean": float(np.mean(c.coefficients)),
                     "random_mean": float(np.mean(c.random)), "overlap": value}
                    for c, (_, value) in zip(analysis.cuts, overlaps)]})
    session.score([cut], "step 5: train at the detected cut")
    return Choice(cut, reason)
