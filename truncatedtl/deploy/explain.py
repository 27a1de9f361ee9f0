"""``ttl explain``: where a run's model looks. Class-activation maps of new inputs, read through the run's own
preprocessing and intensity policy (as ``predict`` reads them), optionally beside a second run's maps with the
agreement of the two; written as one picture per input, the maps themselves, a CSV and a JSON summary."""

from __future__ import annotations

import csv
import gzip
import io
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..data import DataError
from ..engine import run_task
from ..files import write_bytes, write_json, write_text
from ..report.saliency import MapRow, MapView, draw_maps, draw_montage
from ..tasks.classification.metrics import probabilities
from .inputs import collect_inputs
from .metadata import Metadata, run_metadata
from .predict import readable_inputs
from .saliency import MEAN_FOREGROUND, Explainer, ForegroundScore, agreement, resample, scaled, top_indices

# Inputs decoded at a time.
CHUNK = 16
SUMMARY, TABLE = "summary.json", "explain.csv"


@dataclass
class ExplainedRun:
    """A run's network ready to be explained: ``outputs`` names its outputs (the classes, or ``foreground``
    for a segmentation network scored by :class:`ForegroundScore`); ``target`` the output explained (None:
    each input's predicted class)."""

    run: Path
    metadata: Metadata
    model: nn.Module
    explainer: Explainer
    outputs: list[str]
    target: int | None
    segmentation: bool

    @property
    def label(self) -> str:
        return f"{self.metadata.strategy} k{self.metadata.cut}"

    def probabilities(self, x: torch.Tensor) -> np.ndarray:
        with torch.no_grad():
            out = self.model(x)
        return (out if self.segmentation else probabilities(out, self.metadata.task)).numpy()


def refuse_segmentation(run: Path) -> str:
    return (f"{run} is a segmentation run: its output is already a map of the image (ttl predict {run} IMAGES "
            f"--out DIR writes it). To explain a score of it, give --target {MEAN_FOREGROUND} (the mean "
            f"foreground probability over the image).")


def load_explained(run: Path, method: str, layer: str | None, target: str | None) -> ExplainedRun:
    """The run's network, its explainer and the output to explain (``target``: a class name or index,
    ``mean-foreground`` for a segmentation run, None for each input's predicted class)."""
    run = Path(run)
    segmentation = run_task(run) == "segmentation"
    if segmentation and target != MEAN_FOREGROUND:
        raise ValueError(refuse_segmentation(run))
    if not segmentation and target == MEAN_FOREGROUND:
        raise ValueError(f"--target {MEAN_FOREGROUND} scores a segmentation run; {run} is a classifier: give one of "
                         f"its classes, or no --target for each input's predicted class")
    model, metadata = run_metadata(run)
    occlusion_size = max(1, metadata.image_size // 4)
    if segmentation:
        model = ForegroundScore(model).eval()
        explainer = Explainer(model, method, layer, lambda out: out, occlusion_size)
        return ExplainedRun(run, metadata, model, explainer, ["foreground"], 0, True)
    explainer = Explainer(model, method, layer, lambda out: probabilities(out, metadata.task), occlusion_size)
    index = None if target is None else class_index(target, metadata.classes)
    return ExplainedRun(run, metadata, model, explainer, list(metadata.classes), index, False)


def class_index(target: str, classes: list[str]) -> int:
    if target in classes:
        return classes.index(target)
    if target.isdigit() and int(target) < len(classes):
        return int(target)
    raise ValueError(f"--target {target!r} is not a class of this run; its classes are {', '.join(classes)} "
                     f"(a name or an index 0..{len(classes) - 1})")


@dataclass
class View:
    """One run's answer for one input: the map scaled to [0, 1], its raw maximum, the predicted output with its
    probability, and the output the map explains."""

    saliency: np.ndarray
    raw_max: float
    predicted: str
    probability: float
    explained: str


@dataclass
class Explanation:
    name: str
    image: np.ndarray
    main: View
    versus: View | None = None
    pearson: float | None = None
    top_overlap: float | None = None


def _display(x: torch.Tensor, metadata: Metadata) -> np.ndarray:
    """A model input (C, *spatial) back to a gray image in [0, 1]: un-normalised, channels averaged."""
    shape = (-1,) + (1,) * metadata.spatial_dims
    mean, std = torch.tensor(metadata.mean).view(shape), torch.tensor(metadata.std).view(shape)
    return (x * std + mean).mean(0).clamp(0, 1).numpy()


def _segmentation_inputs(paths: list[Path], metadata: Metadata) -> Iterator[tuple[str, torch.Tensor | str]]:
    from ..data import read_image
    from ..tasks.segmentation.writer import model_input

    sets = collect_inputs(paths, 2)
    if any(isinstance(s.samples.items, np.ndarray) for s in sets):
        raise ValueError("a segmentation run is explained on image files and folders, not .npz arrays")
    for path in (Path(item) for s in sets for item in s.samples.items):
        try:
            yield str(path), model_input(read_image(path), metadata.image_size, tuple(metadata.mean),
                                         tuple(metadata.std), metadata.in_chans, metadata.intensity)
        except DataError as err:
            yield str(path), str(err)


def model_inputs(run: ExplainedRun, paths: list[Path]) -> Iterator[tuple[str, torch.Tensor | str]]:
    """Each input's name and its model input (C, *spatial), or the reason it cannot be read; decoded a chunk at
    a time, through the run's preprocessing and intensity policy."""
    if run.segmentation:
        yield from _segmentation_inputs(paths, run.metadata)
        return
    for inputs in collect_inputs(paths, run.metadata.spatial_dims):
        for start in range(0, len(inputs), CHUNK):
            index = np.arange(start, min(start + CHUNK, len(inputs)))
            batch, keep, errors = readable_inputs(inputs.samples.subset(index), run.metadata)
            reasons = iter(errors)
            kept = dict(zip(keep, batch))
            for i in range(len(index)):
                yield inputs.names[start + i], (torch.from_numpy(kept[i]) if i in kept else next(reasons))


def view(run: ExplainedRun, x: torch.Tensor, target: int | None = None) -> View:
    """``run``'s map of ``x`` for output ``target`` (default: the run's target, else its predicted class)."""
    probs = run.probabilities(x[None])[0]
    predicted = int(np.argmax(probs))
    if target is None:
        target = predicted if run.target is None else run.target
    raw = run.explainer(x, target)
    return View(scaled(raw), float(raw.max()), run.outputs[predicted], float(probs[predicted]), run.outputs[target])


@dataclass
class ExplainResult:
    explanations: list[Explanation] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def explain(main: ExplainedRun, paths: list[Path], versus: ExplainedRun | None = None,
            progress: Callable[[int], None] | None = None) -> Iterator[Explanation | str]:
    """Each input's explanation (or the reason it cannot be read), in input order. The ``versus`` run reads
    every input through its own preprocessing and maps the class the main run's map explains (so the two maps
    answer the same question); its map is resampled to the main run's grid."""
    if versus is not None:
        if versus.metadata.spatial_dims != main.metadata.spatial_dims:
            raise ValueError(f"--versus {versus.run} reads {versus.metadata.spatial_dims}D inputs; {main.run} reads "
                             f"{main.metadata.spatial_dims}D ones")
        if versus.outputs != main.outputs:
            raise ValueError(f"--versus {versus.run} predicts {', '.join(versus.outputs)}; {main.run} predicts "
                             f"{', '.join(main.outputs)}: their maps of one class cannot be set side by side")
    other = model_inputs(versus, paths) if versus is not None else None
    for done, (name, x) in enumerate(model_inputs(main, paths), 1):
        y = next(other)[1] if other is not None else None
        if isinstance(x, str) or isinstance(y, str):
            yield x if isinstance(x, str) else y
            continue
        item = Explanation(name, _display(x, main.metadata), view(main, x))
        if versus is not None:
            item.versus = view(versus, y, main.outputs.index(item.main.explained))
            item.versus.saliency = resample(item.versus.saliency, item.main.saliency.shape)
            item.pearson, item.top_overlap = agreement(item.main.saliency, item.versus.saliency)
        if progress is not None:
            progress(done)
        yield item


def file_stem(index: int, name: str) -> str:
    """A file name for input ``index``: its number, then its name (file name without suffix, or
    ``file_array_i`` for an ``.npz`` item) in safe characters."""
    path, _, key = name.partition(".npz:")
    base = f"{Path(path).name}_{key}" if key else re.sub(r"\.(nii\.gz|nii|png|jpe?g|dcm|tiff?|bmp)$", "",
                                                         Path(path).name, flags=re.IGNORECASE)
    return f"{index:04d}_{re.sub(r'[^A-Za-z0-9.-]+', '_', base).strip('_')[:60]}"


def _write_map(path: Path, saliency: np.ndarray) -> None:
    """A 2D map as ``.npy``; a 3D map as gzipped NIfTI (axes as the volume is read, identity affine: the
    model's input grid, after crop and resampling)."""
    if saliency.ndim == 2:
        buffer = io.BytesIO()
        np.save(buffer, saliency.astype(np.float32))
        write_bytes(path, buffer.getvalue())
    else:
        import nibabel

        image = nibabel.Nifti1Image(saliency.astype(np.float32), np.eye(4))
        write_bytes(path, gzip.compress(image.to_bytes(), mtime=0))


def map_suffix(spatial_dims: int) -> str:
    return ".npy" if spatial_dims == 2 else ".nii.gz"


def _title(run: ExplainedRun, v: View) -> str:
    explained = "" if v.explained == v.predicted else f", map of {v.explained}"
    return f"{run.label}: {v.predicted} {v.probability:.2f}{explained}"


def _row_of(item: Explanation, main: ExplainedRun, versus: ExplainedRun | None) -> MapRow:
    views = [MapView(_title(main, item.main), item.main.saliency)]
    note = ""
    if item.versus is not None and versus is not None:
        views.append(MapView(_title(versus, item.versus), item.versus.saliency))
        note = f"r = {_number(item.pearson)}, top-10 % overlap {item.top_overlap:.2f}"
    return MapRow(item.name, item.image, tuple(views), note)


def _number(value: float | None) -> str:
    return "undefined" if value is None or math.isnan(value) else f"{value:.3f}"


def _peak(saliency: np.ndarray) -> str:
    return ",".join(str(int(i)) for i in np.unravel_index(np.argmax(saliency), saliency.shape))


def top_mass(saliency: np.ndarray) -> float:
    """Share of the map's mass in its top 10 % of pixels: 0.1 for a flat map, near 1 for a focused one."""
    total = float(saliency.sum())
    return float(saliency.ravel()[top_indices(saliency)].sum()) / total if total > 0 else float("nan")


def csv_row(item: Explanation, picture: str) -> dict:
    row = {"input": item.name, "picture": picture, "predicted": item.main.predicted,
           "probability": f"{item.main.probability:.6g}", "explained": item.main.explained,
           "peak": _peak(item.main.saliency), "top10_mass": f"{top_mass(item.main.saliency):.4f}",
           "raw_max": f"{item.main.raw_max:.6g}"}
    if item.versus is not None:
        row.update({"versus_predicted": item.versus.predicted, "versus_probability": f"{item.versus.probability:.6g}",
                    "versus_explained": item.versus.explained, "pearson": _number(item.pearson),
                    "top10_overlap": f"{item.top_overlap:.4f}"})
    return row


def mean_agreement(items: list[Explanation]) -> dict:
    """The two agreement numbers averaged over the inputs (Pearson over those where it is defined)."""
    pearson = [i.pearson for i in items if i.pearson is not None and not math.isnan(i.pearson)]
    overlap = [i.top_overlap for i in items if i.top_overlap is not None]
    return {"pearson": float(np.mean(pearson)) if pearson else None, "pearson_inputs": len(pearson),
            "top10_overlap": float(np.mean(overlap)) if overlap else None}


def write_explanations(main: ExplainedRun, paths: list[Path], out: Path, versus: ExplainedRun | None = None,
                       progress: Callable[[int], None] | None = None) -> ExplainResult:
    """Explain every input into ``out``: ``<n>_<name>.png`` (image, heat map, overlay; a slice montage for a
    volume), the map (``.npy``, or ``.nii.gz`` for a volume; ``.versus`` beside it for the second run),
    ``explain.csv`` (one row per input) and ``summary.json`` (settings, agreement per input and on average,
    unreadable inputs)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"--out {out} is a file; give a folder")
    out.mkdir(parents=True, exist_ok=True)
    result = ExplainResult()
    rows: list[dict] = []
    suffix = map_suffix(main.metadata.spatial_dims)
    for item in explain(main, paths, versus, progress):
        if isinstance(item, str):
            result.unreadable.append(item)
            continue
        stem = file_stem(len(result.explanations), item.name)
        row = _row_of(item, main, versus)
        if main.metadata.spatial_dims == 2:
            draw_maps(out / f"{stem}.png", [row])
        else:
            draw_montage(out / f"{stem}.png", row)
            _write_map(out / f"{stem}.input{suffix}", item.image)
        _write_map(out / f"{stem}{suffix}", item.main.saliency)
        if item.versus is not None:
            _write_map(out / f"{stem}.versus{suffix}", item.versus.saliency)
        rows.append(csv_row(item, f"{stem}.png"))
        item.image = item.main.saliency = np.zeros(0)  # the pictures are written: keep memory flat
        if item.versus is not None:
            item.versus.saliency = np.zeros(0)
        result.explanations.append(item)
    if rows:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        write_text(out / TABLE, buffer.getvalue())
    write_json(out / SUMMARY, summary(main, versus, result))
    return result


def _about(run: ExplainedRun) -> dict:
    return {"run": str(run.run), "backbone": run.metadata.backbone, "strategy": run.metadata.strategy,
            "cut": run.metadata.cut, "image_size": run.metadata.image_size, "method": run.explainer.method,
            "layer": run.explainer.layer,
            "target": MEAN_FOREGROUND if run.segmentation else (
                "predicted class" if run.target is None else run.outputs[run.target])}


def summary(main: ExplainedRun, versus: ExplainedRun | None, result: ExplainResult) -> dict:
    value: dict = {"main": _about(main), "inputs": len(result.explanations), "unreadable": result.unreadable}
    if versus is not None:
        value["versus"] = _about(versus)
        value["agreement"] = {
            "top_share": 0.10,
            "per_input": [{"input": i.name, "pearson": None if i.pearson is None or math.isnan(i.pearson)
                           else i.pearson, "top10_overlap": i.top_overlap} for i in result.explanations],
            "mean": mean_agreement(result.explanations)}
    return value


def explain_run(run: Path, paths: list[Path], out: Path, method: str = "gradcam", layer: str | None = None,
                target: str | None = None, versus: Path | None = None, versus_layer: str | None = None,
                progress: Callable[[int], None] | None = None) -> ExplainResult:
    """``ttl explain``: load the run (and the ``versus`` run, explained by the same method and target, at its
    own last kept unit unless ``versus_layer``) and write the explanations of ``paths`` into ``out``."""
    main = load_explained(run, method, layer, target)
    other = load_explained(versus, method, versus_layer, target) if versus is not None else None
    return write_explanations(main, paths, out, other, progress)
