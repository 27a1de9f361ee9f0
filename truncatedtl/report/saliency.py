"""Pictures of saliency maps: image, heat map and overlay per model (2D), or a montage of slices through the
map's peak (3D). Drawn from arrays alone (a ``ttl explain`` output or committed records), with matplotlib's
Agg canvas, without pyplot."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..files import atomic_path

HEAT = "jet"
# Opacity of the heat map laid over the image.
ALPHA = 0.45
# Slices a volume's montage shows, centred on the map's peak.
MONTAGE_SLICES = 6


@dataclass(frozen=True)
class MapView:
    """One model's map of one input: ``title`` (the model, its predicted class and probability) and the map
    (*spatial) scaled to [0, 1]."""

    title: str
    saliency: np.ndarray


@dataclass(frozen=True)
class MapRow:
    """One input: its ``name``, the ``image`` (*spatial) in [0, 1] as the first model saw it, one view per
    model, and a ``note`` (the agreement of the maps) under the name."""

    name: str
    image: np.ndarray
    views: tuple[MapView, ...]
    note: str = ""


def _save(figure: Figure, path: Path, dpi: int = 110) -> None:
    FigureCanvasAgg(figure)
    with atomic_path(Path(path)) as tmp:
        figure.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")


def _show(ax, image: np.ndarray, saliency: np.ndarray | None = None, heat_only: bool = False) -> None:
    if not heat_only:
        ax.imshow(image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    if saliency is not None:
        ax.imshow(saliency, cmap=HEAT, vmin=0, vmax=1, alpha=1.0 if heat_only else ALPHA, interpolation="bilinear")
    ax.set_xticks([])
    ax.set_yticks([])


def draw_maps(path: Path, rows: list[MapRow], heat: bool = True, title: str = "", dpi: int = 110) -> None:
    """2D maps, one input per row: the image, then per model its heat map (with ``heat``) and its overlay."""
    per_view = 2 if heat else 1
    columns = 1 + per_view * max(len(r.views) for r in rows)
    figure = Figure(figsize=(2.3 * columns, 2.55 * len(rows) + (0.35 if title else 0)))
    axes = figure.subplots(len(rows), columns, squeeze=False)
    for row, ax_row in zip(rows, axes):
        _show(ax_row[0], row.image)
        ax_row[0].set_title(_wrap(row.name), fontsize=7)
        if row.note:
            ax_row[0].set_xlabel(row.note, fontsize=7)
        for i, view in enumerate(row.views):
            at = 1 + per_view * i
            if heat:
                _show(ax_row[at], row.image, view.saliency, heat_only=True)
                ax_row[at].set_title(f"{view.title}\nheat map", fontsize=7)
            _show(ax_row[at + per_view - 1], row.image, view.saliency)
            ax_row[at + per_view - 1].set_title(f"{view.title}\noverlay", fontsize=7)
        for ax in ax_row[1 + per_view * len(row.views):]:
            ax.axis("off")
    figure.tight_layout()
    if title:
        figure.suptitle(title, fontsize=9, y=1.0, va="bottom")
    _save(figure, path, dpi)


def peak_slices(saliency: np.ndarray, count: int = MONTAGE_SLICES) -> list[int]:
    """``count`` slice indices along the first (depth) axis, evenly spread over the middle half of the volume
    around the slice holding the map's peak (which is always one of them)."""
    depth = saliency.shape[0]
    peak = int(np.unravel_index(np.argmax(saliency), saliency.shape)[0])
    if depth <= count:
        return list(range(depth))
    step = max(1, depth // (2 * count))
    first = min(max(0, peak - step * (count // 2)), depth - step * (count - 1) - 1)
    return [first + step * i for i in range(count)]


def draw_montage(path: Path, row: MapRow, count: int = MONTAGE_SLICES) -> None:
    """A volume's slices through the first model's peak: the image, then one row of overlays per model."""
    slices = peak_slices(row.views[0].saliency, count)
    figure = Figure(figsize=(1.9 * len(slices), 2.0 * (1 + len(row.views)) + 0.5))
    axes = figure.subplots(1 + len(row.views), len(slices), squeeze=False)
    for j, z in enumerate(slices):
        _show(axes[0][j], row.image[z])
        axes[0][j].set_title(f"slice {z}", fontsize=7)
        for i, view in enumerate(row.views):
            _show(axes[i + 1][j], row.image[z], view.saliency[z])
    for i, view in enumerate(row.views):
        axes[i + 1][0].set_ylabel(view.title, fontsize=7)
    figure.suptitle(_wrap(row.name) + (f"\n{row.note}" if row.note else ""), fontsize=8)
    figure.tight_layout()
    _save(figure, path)


def _wrap(text: str, width: int = 34) -> str:
    """Long input names (paths) broken over lines, keeping their end (the file name) whole."""
    if len(text) <= width:
        return text
    return "…" + text[-(width - 1):]
