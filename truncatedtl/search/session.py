"""What a search method works with: its settings, and a session that trains candidate cut points.

A method asks the session to score cut points; the session trains every repeat of the searched strategy at
each cut (and FTL, which every search trains with the same repeats), through the trial store and the
chosen executor, and returns the mean validation AUPRC per cut. The test split plays no part in a choice: the
trials do not score it (unless ``test_every_cut``); the search scores it at the end for the chosen model and
FTL only, from their saved checkpoints."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..backbones import Backbone
from ..engine import Prepared, RunConfig
from ..evidence import MARGIN, standard_error
from ..record import TrialRecord, mean_std
from ..strategies import get_strategy
from ..tasks import get_task, score_label
from .store import Trial, TrialStore

FTL = "ftl"
# How a search that trains cut points picks among them (``--select``): the best mean validation score, or the
# smallest cut whose mean lies within one standard error of the best (the default, chosen by
# docs/results/search_cost.md).
SELECT_RULES = ("best", "smallest-within-noise")
SELECT_DEFAULT = "smallest-within-noise"
# The SVCCA rule (``--svcca-rule``, :mod:`.svcca_guided`) by default: the one nearer the exhaustive best on mean and
# worst validation gap over the four datasets of docs/results/search_cost.md.
SVCCA_RULE_DEFAULT = "last-before"


@dataclass(frozen=True)
class SearchSettings:
    """How to search: the method, the strategy whose cut is searched, repeats (seeds 0..repeats-1), the rule that
    picks among trained cuts (``select``), the margin of the verdicts against FTL, the two-stage radius, the SVCCA overlap threshold and rule, whether every trial also scores the test split,
    and where trials run."""

    method: str
    strategy: str = "ttl"
    repeats: int = 3
    select: str = SELECT_DEFAULT
    margin: float = MARGIN
    radius: int = 2
    overlap_threshold: float = 0.5
    svcca_rule: str = SVCCA_RULE_DEFAULT
    test_every_cut: bool = False
    executor: str = "local"
    workers: int = 1
    ray_address: str | None = None

    @property
    def seeds(self) -> list[int]:
        return list(range(self.repeats))


@dataclass(frozen=True)
class CutScore:
    """Validation score of one cut point over the repeats: mean, (population) standard deviation, and the
    standard error of the mean (over repeats; by bootstrap over validation samples for one repeat; None where
    neither is known)."""

    cut: int
    mean: float
    std: float
    se: float | None = None

    def __str__(self) -> str:
        """``0.9713 ± 0.0120`` over repeats; with one repeat its standard error, never ``± 0.0000``."""
        if self.std > 0:
            return f"{self.mean:.4f} ± {self.std:.4f}"
        return f"{self.mean:.4f} (one seed" + (f", SE {self.se:.4f})" if self.se is not None else ")")


@dataclass(frozen=True)
class Stage:
    """One round of a search: what it tried and why."""

    name: str
    cuts: list[int]


@dataclass(frozen=True)
class Choice:
    """The chosen cut point, the reason in words that the report shows, and the score the method gave each
    cut point it looked at (mean validation AUPRC for trained cuts; the estimate for estimators)."""

    cut: int
    reason: str
    scores_by_cut: dict[int, float] = field(default_factory=dict)
    best_cut: int | None = None


def best(scores: list[CutScore]) -> CutScore:
    """Highest mean validation AUPRC; a tie goes to the smaller (cheaper) cut."""
    return max(scores, key=lambda s: (s.mean, -s.cut))


def select(scores: list[CutScore], rule: str) -> tuple[CutScore, str]:
    """The cut ``rule`` picks among ``scores`` and the sentence that says how: ``best`` (highest mean) or
    ``smallest-within-noise`` (the smallest cut whose mean lies within one standard error of the best's mean;
    the best where its standard error is unknown)."""
    top = best(scores)
    if rule == "best":
        return top, f"rule best: the highest mean, cut {top.cut}"
    if top.se is None:
        return top, f"rule smallest-within-noise, but the standard error of cut {top.cut} is unknown: the best"
    floor = top.mean - top.se
    chosen = min((s for s in scores if s.mean >= floor), key=lambda s: s.cut)
    return chosen, (f"rule smallest-within-noise: the smallest cut within one standard error ({top.se:.4f}) of the "
                    f"best-scoring cut {top.cut} ({top.mean:.4f}), i.e. at least {floor:.4f}: cut {chosen.cut} "
                    f"({chosen.mean:.4f})")


@dataclass
class Session:
    """One search in progress. ``run`` trains the trials the store lacks and returns all their records."""

    base: RunConfig
    settings: SearchSettings
    store: TrialStore
    prepared: Prepared
    run: Callable[[list[Trial]], list[TrialRecord]]
    stages: list[Stage] = field(default_factory=list)
    _same_as_ftl: dict[int, bool] = field(default_factory=dict, repr=False)

    @property
    def backbone(self) -> Backbone:
        return self.prepared.backbone

    @property
    def cuts(self) -> list[int]:
        """The cut points the searched strategy can train at (its declared range)."""
        return get_strategy(self.settings.strategy).cut_range(self.backbone)

    def ftl_trials(self) -> list[Trial]:
        return [Trial(FTL, self.backbone.last_cut, seed) for seed in self.settings.seeds]

    def trials(self, cut: int) -> list[Trial]:
        """The repeats of the searched strategy at ``cut``; FTL's where that cut builds FTL's network."""
        if self.no_truncation(cut):
            return self.ftl_trials()
        return [Trial(self.settings.strategy, cut, seed) for seed in self.settings.seeds]

    def checked_cuts(self) -> list[int]:
        """The cuts whose network was compared with FTL's (see :meth:`no_truncation`)."""
        return sorted(self._same_as_ftl)

    def no_truncation(self, cut: int) -> bool:
        """Whether the searched strategy at ``cut`` builds and trains the very network FTL does (a U-Net cut at
        its last encoder stage): then it is not trained twice. Only the last cut can be."""
        if cut != self.backbone.last_cut:
            return False
        if cut not in self._same_as_ftl:
            from dataclasses import replace

            from ..engine.run import network_signature

            mine = replace(self.base, strategy=self.settings.strategy, cut=cut)
            ftl = replace(self.base, strategy=FTL, cut=None)  # both heads get the same width: two classes serve
            self._same_as_ftl[cut] = network_signature(mine, self.backbone, 2) == network_signature(ftl, self.backbone, 2)
        return self._same_as_ftl[cut]

    def ftl(self) -> list[TrialRecord]:
        """Train (or find) FTL at every repeat; its records, seed 0 first."""
        return self.run(self.ftl_trials())

    @property
    def score_label(self) -> str:
        """What cut points are ranked by, in words: validation AUPRC (classification) or Dice (segmentation)."""
        return f"val {score_label(get_task(self.base.task).selected)}"

    def score(self, cuts: list[int], stage: str) -> list[CutScore]:
        """Train the strategy at ``cuts`` (with FTL, if not yet trained, in the same batch so that parallel
        executors overlap them) and score each cut by its validation score (AUPRC; Dice for segmentation)."""
        self.stages.append(Stage(stage, list(cuts)))
        trials = self.ftl_trials() + [t for cut in cuts for t in self.trials(cut) if t not in self.ftl_trials()]
        records = {r.trial: r for r in self.run(trials)}
        return [self._cut_score(cut, [records[t.key] for t in self.trials(cut)]) for cut in cuts]

    def _cut_score(self, cut: int, records: list[TrialRecord]) -> CutScore:
        score = get_task(self.base.task).selected
        values = [r.val[score] for r in records]
        predictions = [self.store.predictions(r.trial, "val") for r in records[:1]] if len(values) == 1 else None
        se = standard_error([p for p in predictions or [] if p is not None], values, score)
        return CutScore(cut, **mean_std(values), se=se)
