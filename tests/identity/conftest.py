"""Fixtures for identity tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The test modules import their helpers as a top-level module, whatever pytest's import mode.
sys.path.insert(0, str(Path(__file__).parent))

from identity_helpers import Store


@pytest.fixture
def store() -> Iterator[Store]:
    s = Store()
    try:
        yield s
    finally:
        s.close()
