"""``ttl cutpoints``: where a backbone can be cut, and what the truncated model costs at each point."""

from __future__ import annotations

import json

import typer

from ..analysis.complexity import count_macs, count_params
from ..backbones import input_side, load_backbone
from ..spec import HeadSpec
from ..tasks import build_network, resolve_spec, resolve_task
from ._common import TASK


def cutpoint_rows(model: str, num_classes: int, image_size: int, task: str | None = None) -> list[dict]:
    """One row per cut point of ``model``; an ``image_size`` below the stride of its deepest cut point (the
    table's last row would have no feature map) is refused, as ``ttl profile`` refuses it."""
    if image_size < 1:
        raise ValueError(f"--image-size must be at least 1, got {image_size}")
    task = resolve_task(task, model)
    backbone = load_backbone(model)
    last = backbone.cut_points[-1]
    stride = max(last.stride) if isinstance(last.stride, tuple) else last.stride
    if image_size < stride:
        raise ValueError(f"--image-size {image_size} is smaller than the total stride of {model} at cut "
                         f"{last.index} ({stride}): use at least {stride}")
    shape = backbone.input_shape(image_size)
    rows = []
    for point in backbone.cut_points:
        spec = resolve_spec(backbone, "ttl", point.index, HeadSpec(num_classes, image_size), task)
        net = build_network(spec, backbone)
        rows.append({"index": point.index, "name": point.name, "block": point.block, "block_end": point.block_end,
                     "channels": point.channels, "stride": point.stride, "params": count_params(net),
                     "macs": count_macs(net, shape)})
    return rows


def cutpoints(
    model: str = typer.Argument(..., help="Backbone name, e.g. resnet50 (ttl cutpoints --help lists them)."),
    num_classes: int = typer.Option(2, help="Classes of the new head."),
    image_size: int = typer.Option(224, help="Input side for the MAC count."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list instead of a table."),
    task: str | None = TASK,
) -> None:
    """One row per cut point: index k, module, block, block end, channels, stride, params and MACs of the
    truncated model (stem + k units + head)."""
    rows = cutpoint_rows(model, num_classes, image_size, task)
    if as_json:
        typer.echo(json.dumps(rows, indent=1))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{model}: cut points ({num_classes} classes, {input_side(model, image_size)})")
    for column in ("k", "module", "block", "block end", "channels", "stride", "params (M)", "MACs (G)"):
        table.add_column(column, justify="left" if column == "module" else "right")
    for r in rows:
        table.add_row(str(r["index"]), r["name"], str(r["block"]), "yes" if r["block_end"] else "",
                      str(r["channels"]), str(r["stride"]), f"{r['params'] / 1e6:.2f}", f"{r['macs'] / 1e9:.2f}")
    Console().print(table)
