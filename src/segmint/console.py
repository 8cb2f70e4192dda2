"""How the core reports progress and messages without printing.

The core takes a :class:`Console`; the CLI passes one that draws Rich progress bars, the API
and tests pass :class:`NullConsole` (or their own), so no core module writes to a terminal.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Protocol


class Progress(Protocol):
    def advance(self, amount: int = 1) -> None: ...


class Console(Protocol):
    """What the core may tell the person running it."""

    def progress(
        self, description: str, total: int | None = None
    ) -> AbstractContextManager[Progress]: ...

    def info(self, message: str) -> None: ...

    def warn(self, message: str) -> None: ...


class _NoProgress:
    def advance(self, amount: int = 1) -> None:
        pass


class NullConsole:
    """A console that shows nothing; what library callers and tests get by default."""

    def progress(
        self, description: str, total: int | None = None
    ) -> AbstractContextManager[Progress]:
        return nullcontext(_NoProgress())

    def info(self, message: str) -> None:
        pass

    def warn(self, message: str) -> None:
        pass
