"""The command-line interface: the only place that parses options, prints or exits."""

from aecli.cli import (  # noqa: F401 - each module registers its command
    encode,
    evaluate,
    export,
    generate,
    interpolate,
    reconstruct,
    runs,
    sample,
    score,
    smile,
    train,
    traverse,
    tsne,
)
from aecli.cli.app import app, main

__all__ = ["app", "main"]
