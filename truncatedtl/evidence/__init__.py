"""Evidence a reviewer accepts (SPEC §11): per-sample predictions kept beside each record, intervals of every
score over test samples and seeds, paired comparisons against FTL with a verdict at a margin, and flags on
degenerate scores. ``stats`` is the numeric core; the other modules apply it to kept predictions."""

from .flags import ceiling_tie, collapse, record_flags, still_improving
from .intervals import (
           MARGIN,
           RESAMPLES,
           check_margin,
           compare,
           score_interval,
           seed_interval,
           split_intervals,
           standard_error,
)
from .predictions import Predictions, predictions_file
from .stats import VERDICTS, verdict

__all__ = ["MARGIN", "RESAMPLES", "VERDICTS", "Predictions", "ceiling_tie", "check_margin", "collapse", "compare",
           "predictions_file", "record_flags", "score_interval", "seed_interval", "split_intervals", "standard_error",
           "still_improving", "verdict"]
