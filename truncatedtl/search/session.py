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
from ..record import TrialRecord, mean_std
from ..strategies import get_strategy
from ..tasks import get_task, score_label
from .store import Trial, TrialStore

FTL = "ftl"


@dataclass(frozen=True)
class SearchSettings:
    """How to search: the method, the strategy whose cut is searched, repeats (seeds 0..repeats-1), the
    two-stage radius, the SVCCA overlap threshold and rule, whether every trial also scores the test split,
    and where trials run."""

    method: str
    strategy: str = "ttl"
    repeats: int = 3
    radius: int = 2
    overlap_threshold: float = 0.5
    svcca_rule: str = "first-overlap"
    test_every_cut: bool = False
    executor: str = "local"
    workers: int = 1
    ray_address: str | None = None

    @property
    def seeds(self) -> list[int]:
        return list(range(self.repeats))


@dataclass(frozen=True)
class CutScore:
    """Validation AUPRC of one cut point over the repeats: mean and (population) standard deviation."""

    cut: int
    mean: float
    std: float


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


def best(scores: list[CutScore]) -> CutScore:
    """Highest mean validation AUPRC; a tie goes to the smaller (cheaper) cut."""
    return max(scores, key=lambda s: (s.mean, -s.cut))


@dataclass
class Session:
    """One search in progress. ``run`` trains the trials the store lacks and returns all their records."""

    base: RunConfig
    settings: SearchSettings
    store: TrialStore
    prepared: Prepared
    run: Callable[[list[Trial]], list[TrialRecord]]
    stages: list[Stage] = field(default_factory=list)

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
        return [Trial(self.settings.strategy, cut, seed) for seed in self.settings.seeds]

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
        trials = self.ftl_trials() + [t for cut in cuts for t in self.trials(cut)]
        records = {r.trial: r for r in self.run(trials)}
        score = get_task(self.base.task).selected
        return [CutScore(cut, **mean_std([records[t.key].val[score] for t in self.trials(cut)])) for cut in cuts]
