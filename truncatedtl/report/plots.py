"""The transferability figures (paper Figs. 4/9, 5, 6), drawn from saved records only.

Inputs are a ``Transferability`` read from ``svcca.json`` and, where present, per-trial JSON records
(``trials/*.json``: strategy, cut, val.auprc) for the accuracy-per-cut curve. Figures are rendered with
matplotlib's Agg canvas, without pyplot, so drawing needs no display and keeps no global state.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..analysis.svcca import mean_coefficient
from ..analysis.transferability import Transferability
from ..files import atomic_path
from ..record import mean_std, read_record

FINETUNED, PRETRAINED, RANDOM = "tab:blue", "tab:orange", "0.55"
FIGURES = {"cuts": "svcca_cuts.png", "blocks": "svcca_blocks.png", "pairs": "svcca_block_pairs.png"}


@dataclass(frozen=True)
class AuprcCurve:
    """Validation AUPRC of one strategy per cut point: mean and std over repeats."""

    strategy: str
    cuts: tuple[int, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    repeats: tuple[int, ...]


def auprc_by_cut(directories: Sequence[Path], strategy: str = "ttl") -> AuprcCurve | None:
    """The AUPRC-per-cut curve from the ``trials/*.json`` records of ``strategy`` in ``directories``;
    ``None`` where they hold no such record."""
    scores: dict[int, list[float]] = defaultdict(list)
    for directory in directories:
        for path in sorted(Path(directory).glob("trials/*.json")):
            record = read_record(path)
            if record.strategy == strategy and "auprc" in record.val:
                scores[record.cut].append(float(record.val["auprc"]))
    if not scores:
        return None
    cuts = tuple(sorted(scores))
    summary = [mean_std(scores[c]) for c in cuts]
    return AuprcCurve(strategy, cuts, tuple(s["mean"] for s in summary), tuple(s["std"] for s in summary),
                      tuple(len(scores[c]) for c in cuts))


def _save(figure: Figure, path: Path) -> Path:
    """Render to a temporary file beside ``path`` and rename, so a reader never sees half a PNG."""
    path = Path(path)
    FigureCanvasAgg(figure)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=120)
    return path


def _title(result: Transferability) -> str:
    return (f"{result.reference} vs {result.finetuned}\n{result.data or 'inputs'}: {result.samples} images, "
            f"≤ {result.positions} positions each")


def _shade_blocks(ax: Axes, result: Transferability) -> None:
    """Alternate light bands per block, labelled B1, B2, … at the top."""
    for block in sorted({c.block for c in result.cuts}):
        members = [c.cut for c in result.cuts if c.block == block]
        lo, hi = min(members) - 0.5, max(members) + 0.5
        if block % 2:
            ax.axvspan(lo, hi, color="0.94", zorder=0)
        ax.text((lo + hi) / 2, 1.01, f"B{block}" if block else "stem", ha="center", va="bottom", fontsize=8,
                transform=ax.get_xaxis_transform())


def plot_cuts(result: Transferability, auprc: AuprcCurve | None, path: Path) -> Path:
    """Fig. 4/9: per cut point, the box of SVCCA coefficients pretrained vs finetuned beside the box of
    random-vs-random ones; the AUPRC-per-cut curve with its std band on a second axis when given."""
    figure = Figure(figsize=(max(7.0, 0.55 * len(result.cuts) + 2), 5.0))
    ax = figure.add_subplot()
    cuts = [c.cut for c in result.cuts]
    for offset, color, values, label in ((-0.18, FINETUNED, [c.coefficients for c in result.cuts],
                                          f"{result.reference} vs {result.finetuned}"),
                                         (0.18, RANDOM, [c.random for c in result.cuts], "random vs random")):
        boxes = ax.boxplot(values, positions=[k + offset for k in cuts], widths=0.32, patch_artist=True,
                           showfliers=False, manage_ticks=False)
        for box in boxes["boxes"]:
            box.set(facecolor=color, alpha=0.75, edgecolor="0.2")
        for median in boxes["medians"]:
            median.set(color="black")
        ax.plot([], [], "s", color=color, alpha=0.75, label=label)
    _shade_blocks(ax, result)
    ax.set_xticks(cuts)
    ax.set_xlim(min(cuts) - 0.6, max(cuts) + 0.6)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("cut point k (units kept above the stem)")
    ax.set_ylabel("SVCCA coefficients")
    handles, labels = ax.get_legend_handles_labels()
    if auprc is not None:
        twin = ax.twinx()
        mean, std = np.array(auprc.mean), np.array(auprc.std)
        twin.plot(auprc.cuts, mean, "-o", color="tab:green", markersize=3)
        twin.fill_between(auprc.cuts, mean - std, mean + std, color="tab:green", alpha=0.2)
        twin.set_ylabel(f"validation AUPRC ({auprc.strategy})", color="tab:green")
        repeats = max(auprc.repeats)
        spread = f"mean ± std, {repeats} repeats" if repeats > 1 else "1 run, no std"
        twin.plot([], [], "-o", color="tab:green", label=f"{auprc.strategy} val AUPRC ({spread})")
        more_handles, more_labels = twin.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3, fontsize=8, frameon=False)
    figure.suptitle(_title(result), fontsize=9)
    figure.tight_layout()
    return _save(figure, path)


def _curve(ax: Axes, coefficients: Sequence[float], **style) -> None:
    """Coefficients (descending) against their index normalised to [0, 1], so sizes compare."""
    ax.plot(np.linspace(0, 1, len(coefficients)), coefficients, **style)


def _grid(count: int, columns: int) -> tuple[Figure, list[Axes]]:
    rows = -(-count // columns)
    figure = Figure(figsize=(3.4 * min(count, columns), 2.8 * rows + 0.6))
    axes = [figure.add_subplot(rows, min(count, columns), i + 1) for i in range(count)]
    for ax in axes:
        ax.set_ylim(0, 1.02)
        ax.set_xlim(0, 1)
    return figure, axes


def plot_blocks(result: Transferability, path: Path) -> Path:
    """Fig. 5: at the end of every block, coefficients pretrained vs finetuned (bold) and random vs random
    (light); the area between them is the gap of mean coefficients, given in each title."""
    cuts = result.per_block()
    if not cuts:
        raise ValueError("the record holds no cut point closing a block")
    figure, axes = _grid(len(cuts), 4)
    for ax, cut in zip(axes, cuts):
        _curve(ax, cut.coefficients, color=FINETUNED, linewidth=2.2, label=f"{result.reference} vs {result.finetuned}")
        _curve(ax, cut.random, color=RANDOM, linewidth=1.2, label="random vs random")
        gap = mean_coefficient(np.array(cut.coefficients)) - mean_coefficient(np.array(cut.random))
        ax.set_title(f"B{cut.block} (cut {cut.cut}, {cut.channels[0]} ch): area {gap:+.2f}", fontsize=9)
        ax.set_xlabel("normalised coefficient index", fontsize=8)
    axes[0].set_ylabel("SVCCA coefficient")
    axes[0].legend(fontsize=7, loc="lower left")
    figure.suptitle(_title(result), fontsize=9)
    figure.tight_layout()
    return _save(figure, path)


def plot_block_pairs(result: Transferability, path: Path) -> Path:
    """Fig. 6: block-to-block coefficients inside each model, before (pretrained) and after finetuning,
    with random vs random of the same shapes (light)."""
    pairs = sorted({b.blocks for b in result.blocks})
    if not pairs:
        raise ValueError("the record holds no block-to-block comparison (the backbone has fewer than 3 blocks)")
    figure, axes = _grid(len(pairs), 4)
    colors = {"pretrained": PRETRAINED, "finetuned": FINETUNED}
    for ax, pair in zip(axes, pairs):
        members = [b for b in result.blocks if b.blocks == pair]
        for b in members:
            _curve(ax, b.coefficients, color=colors[b.model], linewidth=2.2,
                   label=f"{b.model}: mean {mean_coefficient(np.array(b.coefficients)):.2f}")
        _curve(ax, members[0].random, color=RANDOM, linewidth=1.2,
               label=f"random: mean {mean_coefficient(np.array(members[0].random)):.2f}")
        a, b = members[0].cuts
        ax.set_title(f"B{pair[0]}–B{pair[1]} (cuts {a}–{b})", fontsize=9)
        ax.set_xlabel("normalised coefficient index", fontsize=8)
        ax.legend(fontsize=7, loc="lower left")
    axes[0].set_ylabel("SVCCA coefficient")
    figure.suptitle(_title(result), fontsize=9)
    figure.tight_layout()
    return _save(figure, path)


def draw(record: Path, out: Path, trial_dirs: Sequence[Path] = ()) -> list[Path]:
    """Every transferability figure of the record ``svcca.json`` into ``out``; the AUPRC curve is taken
    from the TTL trials found in ``trial_dirs``."""
    result = Transferability.load(record)
    out = Path(out)
    paths = [plot_cuts(result, auprc_by_cut(trial_dirs), out / FIGURES["cuts"]),
             plot_blocks(result, out / FIGURES["blocks"])]
    if result.blocks:
        paths.append(plot_block_pairs(result, out / FIGURES["pairs"]))
    return paths
