"""``ttl explain``: class-activation maps of a run's model on new inputs, optionally beside a second run's."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..deploy.explain import SUMMARY, TABLE, explain_run
from ..deploy.saliency import MEAN_FOREGROUND, METHODS
from ._common import ConfigOption


def explain(
    run_dir: Annotated[Path, typer.Argument(help="Run directory written by ttl train.")],
    inputs: Annotated[list[Path], typer.Argument(help="Image files, folders of images, or .npz files; for a 3D "
                                                  "run NIfTI files, DICOM series folders (one per volume), or "
                                                  "folders of them.")],
    out: Annotated[Path, typer.Option(help="Folder to write the pictures, maps, explain.csv and summary.json "
                                      "into.")],
    method: Annotated[str, typer.Option(help=f"{', '.join(METHODS)} (MONAI's GradCAM, GradCAMpp, "
                                        "OcclusionSensitivity).")] = "gradcam",
    layer: Annotated[str | None, typer.Option(help="Module whose feature map Grad-CAM reads, e.g. body.7 "
                                              "(default: the last kept unit).")] = None,
    target: Annotated[str | None, typer.Option(help="Class to explain, by name or index (default: each input's "
                                               f"predicted class); {MEAN_FOREGROUND} for a segmentation run "
                                               "(its mean foreground probability).")] = None,
    versus: Annotated[Path | None, typer.Option(help="Second run (e.g. FTL) whose maps go beside, with the "
                                                "agreement of the two (Pearson r, top-10 % overlap).")] = None,
    versus_layer: Annotated[str | None, typer.Option(help="--layer of the --versus run (default: its last kept "
                                                     "unit).")] = None,
    skip_unreadable: Annotated[bool, typer.Option("--skip-unreadable", help="Exit 0 even when some inputs cannot "
                                                  "be read (they are still listed).")] = False,
    config: Path | None = ConfigOption,
) -> None:
    """Where the model looks: a class-activation map of each input.

    Inputs are read as predict reads them (the run's preprocessing and intensity policy). Writes per input
    a PNG (image, heat map, overlay, predicted class and probability; for a volume, slices through the map's
    peak) and the map (.npy, or .nii.gz for a volume), then explain.csv and summary.json. Segmentation runs
    are refused unless --target mean-foreground."""
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("explain", total=None)
        result = explain_run(run_dir, inputs, out, method, layer, target, versus, versus_layer,
                             lambda done: bar.update(task, completed=done))
    typer.echo(f"wrote {len(result.explanations)} picture(s), {TABLE} and {SUMMARY} to {out}")
    if versus is not None and result.explanations:
        from ..deploy.explain import mean_agreement

        mean = mean_agreement(result.explanations)
        r = "undefined" if mean["pearson"] is None else f"{mean['pearson']:.3f}"
        typer.echo(f"agreement with {versus}: mean Pearson r {r}, mean top-10 % overlap {mean['top10_overlap']:.3f}")
    if result.unreadable:
        typer.echo(f"{len(result.unreadable)} input(s) could not be read:", err=True)
        for line in result.unreadable:
            typer.echo(f"  {line}", err=True)
        if not skip_unreadable:
            raise typer.Exit(1)
