"""The terminal side of :class:`segmint.console.Console`: Rich progress bars and messages."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console as RichTerminal
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from segmint.console import Progress as ProgressTask

stdout = RichTerminal()
stderr = RichTerminal(stderr=True)


class _Task:
    def __init__(self, progress: Progress, task_id: Any) -> None:
        self._progress, self._id = progress, task_id

    def advance(self, amount: int = 1) -> None:
        self._progress.advance(self._id, amount)


class RichConsole:
    """Shows progress on standard error, so ``--json`` output on standard out stays clean."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet

    @contextmanager
    def progress(self, description: str, total: int | None = None) -> Iterator[ProgressTask]:
        columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn()]
        if total is not None:
            columns += [MofNCompleteColumn(), TimeRemainingColumn()]
        columns.append(TimeElapsedColumn())
        with Progress(
            *columns, console=stderr, transient=True, disable=self.quiet or not stderr.is_terminal
        ) as progress:
            yield _Task(progress, progress.add_task(description, total=total))

    def info(self, message: str) -> None:
        if not self.quiet:
            stderr.print(message)

    def warn(self, message: str) -> None:
        stderr.print(f"[yellow]warning:[/yellow] {message}")


def print_json(data: Any) -> None:
    """Machine-readable output: one JSON document on standard out."""
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
