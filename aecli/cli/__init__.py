"""The command-line interface: the only place that parses options, prints or exits."""

from aecli.cli import evaluate, generate, interpolate, reconstruct, runs, sample, smile, train, traverse, tsne  # noqa: F401
from aecli.cli.app import app, main

__all__ = ["app", "main"]
