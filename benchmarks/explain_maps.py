"""Where TTL and FTL look on real chest X-rays: Grad-CAM of each run's last kept unit on test images, their
agreement (Pearson r, top-10 % overlap) per image and on average, and a picture of a few of them.

Measure (needs the two trained runs and the data; see docs/results/explain_maps.md for the commands):

    python benchmarks/explain_maps.py --ttl runs/explain_ttl --ftl runs/explain_ftl \\
        --data ../shared/data/chest_xray_pneumonia --out docs/results/explain_maps

writes ``explain_maps.json`` (settings, per-image numbers, means) and ``explain_maps.npz`` (the drawn images and
their maps, 8-bit), then draws ``explain_maps.png`` from them. ``--redraw`` draws the picture from the records
alone; so do :func:`draw_page` (the agreement table of docs/results/explain_maps.md) and :func:`draw_files` (the
picture) for ``python -m benchmarks redraw``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from truncatedtl.files import write_bytes, write_json
from truncatedtl.report.saliency import MapRow, MapView, draw_maps

RECORD, ARRAYS, PICTURE = "explain_maps.json", "explain_maps.npz", "explain_maps.png"


def measure(ttl: Path, ftl: Path, data: Path, per_class: int, drawn: int, out: Path) -> None:
    import io

    from truncatedtl.deploy.explain import load_explained, model_inputs, view
    from truncatedtl.deploy.saliency import agreement

    runs = {"ttl": load_explained(ttl, "gradcam", None, None), "ftl": load_explained(ftl, "gradcam", None, None)}
    classes = runs["ttl"].outputs
    images = [p for c in classes for p in sorted((data / "test" / c).iterdir())[:per_class]]
    # one X-ray of each class in turn, so the drawn rows show both
    images = [p for pair in zip(images[:per_class], images[per_class:]) for p in pair]
    inputs = {name: {k: x for k, (_, x) in zip(runs, pair)}
              for name, *pair in zip(map(str, images), *(model_inputs(r, images) for r in runs.values()))}
    rows, drawn_arrays = [], {"image": [], "ttl": [], "ftl": []}
    for i, (name, xs) in enumerate(inputs.items()):
        main = view(runs["ttl"], xs["ttl"])
        other = view(runs["ftl"], xs["ftl"], classes.index(main.explained))
        pearson, overlap = agreement(main.saliency, other.saliency)
        truth = Path(name).parent.name
        rows.append({"image": str(Path(name).relative_to(data)), "truth": truth, "explained": main.explained,
                     "ttl": {"predicted": main.predicted, "probability": main.probability},
                     "ftl": {"predicted": other.predicted, "probability": other.probability},
                     "pearson": None if np.isnan(pearson) else pearson, "top10_overlap": overlap})
        if i < drawn:
            shape = (-1,) + (1,) * runs["ttl"].metadata.spatial_dims
            mean = np.asarray(runs["ttl"].metadata.mean).reshape(shape)
            std = np.asarray(runs["ttl"].metadata.std).reshape(shape)
            image = (xs["ttl"].numpy() * std + mean).mean(0).clip(0, 1)
            for key, value in (("image", image), ("ttl", main.saliency), ("ftl", other.saliency)):
                drawn_arrays[key].append(np.round(value * 255).astype(np.uint8))
    pearsons = [r["pearson"] for r in rows if r["pearson"] is not None]
    record = {
        "method": "gradcam", "target": "the TTL model's predicted class, for both models",
        "runs": {k: {"run": Path(p).name, **{a: getattr(runs[k].metadata, a) for a in ("backbone", "strategy", "cut",
                                                                                      "image_size")},
                     "layer": runs[k].explainer.layer, "test": _test_scores(Path(p))}
                 for k, p in (("ttl", ttl), ("ftl", ftl))},
        "data": "chest_xray_pneumonia (official test split, first images of each class by file name)",
        "images": len(rows), "drawn": min(drawn, len(rows)),
        "mean": {"pearson": float(np.mean(pearsons)), "pearson_median": float(np.median(pearsons)),
                 "top10_overlap": float(np.mean([r["top10_overlap"] for r in rows])),
                 "pearson_inputs": len(pearsons),
                 "same_prediction": float(np.mean([r["ttl"]["predicted"] == r["ftl"]["predicted"] for r in rows]))},
        "rows": rows}
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / RECORD, record)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{k: np.stack(v) for k, v in drawn_arrays.items()})
    write_bytes(out / ARRAYS, buffer.getvalue())


def _test_scores(run: Path) -> dict:
    return json.loads((run / "result.json").read_text()).get("test", {})


def redraw(out: Path, picture: Path | None = None) -> Path:
    """The picture (``picture``, default ``out``/explain_maps.png), from the records in ``out`` alone: one row per
    drawn X-ray, the image then each model's overlay."""
    picture = Path(picture) if picture is not None else out / PICTURE
    record = json.loads((out / RECORD).read_text())
    with np.load(out / ARRAYS) as arrays:
        images, maps = arrays["image"] / 255, {k: arrays[k] / 255 for k in ("ttl", "ftl")}
    rows = []
    for i, row in enumerate(record["rows"][:record["drawn"]]):
        views = tuple(MapView(f"{k.upper()} k{record['runs'][k]['cut']}: {row[k]['predicted']} "
                              f"{row[k]['probability']:.2f}", maps[k][i]) for k in ("ttl", "ftl"))
        note = f"r = {row['pearson']:.2f}, top-10 % overlap {row['top10_overlap']:.2f}"
        rows.append(MapRow(f"{row['image']} ({row['truth']})", images[i], views, note))
    mean = record["mean"]
    title = (f"Grad-CAM, {record['runs']['ttl']['backbone']} TTL (cut {record['runs']['ttl']['cut']}) vs FTL\n"
             f"over {record['images']} test X-rays: mean r {mean['pearson']:.2f}, "
             f"mean top-10 % overlap {mean['top10_overlap']:.2f}")
    draw_maps(picture, rows, heat=False, title=title, dpi=80)
    return picture


def draw_files(results: Path, out: Path) -> list[Path]:
    """docs/results/explain_maps/explain_maps.png, from the records next to it."""
    return [redraw(Path(results) / "explain_maps", Path(out) / "results" / "explain_maps" / PICTURE)]


def draw_page(results: Path) -> dict[str, str]:
    """The drawn block of docs/results/explain_maps.md: the agreement of the two maps over all the X-rays
    (explain_maps.json's means), then per true class (from its rows; the last class of the outputs, the
    positive one, first)."""
    record = json.loads((Path(results) / "explain_maps" / RECORD).read_text())
    mean = record["mean"]
    lines = ["| images | mean Pearson r | median r | mean top-10 % overlap | same prediction |", "|---|---|---|---|---|",
             f"| all {record['images']} | {mean['pearson']:.2f} | {mean['pearson_median']:.2f} | "
             f"{mean['top10_overlap']:.2f} | {100 * mean['same_prediction']:.0f} % |"]
    classes = list(dict.fromkeys(row["truth"] for row in record["rows"]))
    for name in reversed(classes):
        rows = [row for row in record["rows"] if row["truth"] == name]
        pearsons = [row["pearson"] for row in rows if row["pearson"] is not None]
        lines.append(f"| {len(rows)} {name} | {np.mean(pearsons):.2f} | | "
                     f"{np.mean([row['top10_overlap'] for row in rows]):.2f} | |")
    return {"agreement": "\n".join(lines)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/results/explain_maps"))
    parser.add_argument("--redraw", action="store_true", help="Draw the picture from the records only.")
    parser.add_argument("--ttl", type=Path, help="The TTL run directory.")
    parser.add_argument("--ftl", type=Path, help="The FTL run directory.")
    parser.add_argument("--data", type=Path, default=Path("../shared/data/chest_xray_pneumonia"))
    parser.add_argument("--per-class", type=int, default=30, help="Test X-rays per class measured.")
    parser.add_argument("--drawn", type=int, default=4, help="X-rays drawn in the picture.")
    args = parser.parse_args()
    if not args.redraw:
        if args.ttl is None or args.ftl is None:
            parser.error("--ttl and --ftl are needed to measure (or give --redraw)")
        measure(args.ttl, args.ftl, args.data, args.per_class, args.drawn, args.out)
    print(f"wrote {redraw(args.out)}")


if __name__ == "__main__":
    main()
