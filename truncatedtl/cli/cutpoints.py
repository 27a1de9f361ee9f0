"""``ttl cutpoints``: where a backbone can be cut, and what the truncated model costs at each point."""

from __future__ import annotations

import json

import typer

from ..analysis.complexity import count_macs, count_params
from ..backbones import load_backbone
from ..spec import HeadSpec
from ..tasks import build_network, resolve_spec


def cutpoint_rows(model: str, num_classes: int, image_size: int) -> list[dict]:
    if image_size < 1:
        raise ValueError(f"--image-size must be at least 1, got {image_size}")
    backbone = load_backbone(model)
    shape = backbone.input_shape(image_size)
    rows = []
    for point in backbone.cut_points:
        spec = resolve_spec(backbone, "ttl", point.index, HeadSpec(num_classes, image_size))
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
) -> None:
    """One row per cut point: index k, module, block, block end, channels, stride, params and MACs of the
    truncated model (stem + k units + head)."""
    rows = cutpoint_rows(model, num_classes, image_size)
    if as_json:
        typer.echo(json.dumps(rows, indent=1))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{model}: cut points ({num_classes} classes, {image_size}²)")
    for column in ("k", "module", "block", "block end", "channels", "stride", "params (M)", "MACs (G)"):
        table.add_column(column, justify="left" if column == "module" else "right")
    for r in rows:
        table.add_row(str(r["index"]), r["name"], str(r["block"]), "yes" if r["block_end"] else "",
                      str(r["channels"]), str(r["stride"]), f"{r['params'] / 1e6:.2f}", f"{r['macs'] / 1e9:.2f}")
    Console().print(table)
