"""Fixtures for profile tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .profile_helpers import Store


@pytest.fixture
def store() -> Iterator[Store]:
    s = Store()
    try:
        yield s
    finally:
        s.close()
