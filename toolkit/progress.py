"""A progress bar for long runs: shown on a terminal when many files are read, silent otherwise.

The bar goes to stderr, so what a command prints on stdout (a table, JSON) stays as it was;
piped or redirected output, `--json` and short runs get no bar at all.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

THRESHOLD = 50  # files: below this a run takes a few seconds and a bar would only flicker


@contextmanager
def file_progress(total: int, label: str, quiet: bool = False,
                  console: Console | None = None) -> Iterator[Callable[[int], None] | None]:
    """A callback advancing a bar by n files, or None when no bar is wanted."""
    console = console or Console(stderr=True)
    if quiet or total <= THRESHOLD or not console.is_terminal:
        yield None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)
