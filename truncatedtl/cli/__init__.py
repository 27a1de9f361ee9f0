"""``ttl``: thin subcommands over the public functions."""

from __future__ import annotations

import os
import sys

import typer

from ..backbones import BackboneError
from ..data import DataError
from ..engine import TrainingError
from .analyze import analyze
from .compare import compare
from .cutpoints import cutpoints
from .explain import explain
from .export import export
from .predict import predict
from .pretrain import pretrain
from .profile import profile
from .report import report
from .search import search
from .train import train

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, no_args_is_help=True,
                  help="TruncatedTL: cut a pretrained CNN where your data needs it, train it, prove it.")
app.command()(cutpoints)
app.command()(train)
app.command()(compare)
app.command()(report)
app.command()(profile)
app.command()(export)
app.command()(predict)
app.command()(explain)
app.command()(search)
app.command()(analyze)
app.command()(pretrain)

# Errors that are the user's input, not a bug: one clear line, exit code 2.
USER_ERRORS = (BackboneError, DataError, TrainingError, FileExistsError, FileNotFoundError, ValueError)


def main() -> None:
    try:
        app()
    except USER_ERRORS as err:
        if os.environ.get("TTL_DEBUG"):
            raise
        typer.echo(f"error: {err}", err=True)
        sys.exit(2)
    except OSError as err:
        typer.echo(f"error: {err}", err=True)
        sys.exit(1)
