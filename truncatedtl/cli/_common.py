"""Shared pieces of the subcommands: the config-file option, errors as clear messages, progress bars."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer


def _load_config(ctx: typer.Context, param: typer.CallbackParam, value: Path | None) -> Path | None:
    """Eager callback: options not given on the command line take their values from the YAML/JSON file."""
    if value is None:
        return value
    try:
        text = value.read_text()
        values = json.loads(text) if value.suffix == ".json" else __import__("yaml").safe_load(text)
    except Exception as err:
        raise typer.BadParameter(f"cannot read config file {value}: {err}") from err
    if not isinstance(values, dict):
        raise typer.BadParameter(f"config file {value} must hold a mapping of option names to values")
    names = {p.name for p in ctx.command.params}
    unknown = sorted(k for k in values if k.replace("-", "_") not in names)
    if unknown:
        raise typer.BadParameter(f"config file {value}: unknown options {', '.join(unknown)}")
    ctx.default_map = {**(ctx.default_map or {}), **{k.replace("-", "_"): v for k, v in values.items()}}
    return value


ConfigOption = typer.Option(None, "--config", help="YAML or JSON file of option values (command line wins).",
                            is_eager=True, callback=_load_config, exists=True, dir_okay=False)


@contextmanager
def training_progress(description: str) -> Iterator:
    """A progress bar over the batches of each epoch; yields the callback the training loop calls."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[loss]}"),
                  TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task(description, total=None, loss="")

        def update(epoch: int, batch: int, batches: int, loss: float) -> None:
            bar.update(task, description=f"{description} epoch {epoch}", completed=batch, total=batches,
                       loss=f"loss {loss:.4f}")

        yield update
