"""Fixtures shared by every test package."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from segmint import Workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    """A fresh, empty workspace on the embedded engine."""
    ws = Workspace.init(tmp_path / "ws")
    try:
        yield ws
    finally:
        ws.close()


# -- engines beyond the embedded default -------------------------------------------------------
#
# PostgreSQL and Spark tests need a server or a JVM. In CI (the CI environment variable is set)
# they must run, so a missing engine fails the test; on a developer's machine without them they
# skip, saying how to enable them.

POSTGRES_URL_ENV = "SEGMINT_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def engine_unavailable(kind: str, reason: str) -> None:
    """Skip this test (fail it in CI) because engine ``kind`` cannot be reached."""
    hints = {
        "postgres": (
            f"start PostgreSQL at {DEFAULT_POSTGRES_URL} or point {POSTGRES_URL_ENV} at a "
            "server the tests may create schemas in"
        ),
        "spark": "install the test extras (pyspark) and a Java 17 runtime (java on PATH)",
    }
    message = f"{kind} engine unavailable ({reason}); to run these tests, {hints[kind]}"
    if os.environ.get("CI"):
        pytest.fail(f"{message}. CI requires every engine.", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL server for tests (a URL), after checking that it answers."""
    url = os.environ.get(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL)
    try:
        import psycopg
    except ImportError as error:
        engine_unavailable("postgres", f"psycopg is not installed: {error}")
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.Error as error:
        engine_unavailable("postgres", f"cannot connect to {url}: {error}".strip())
    return url


@pytest.fixture(scope="session")
def spark_ready() -> None:
    """Check that a local Spark can start (pyspark importable, Java on PATH)."""
    try:
        import pyspark  # noqa: F401
    except ImportError as error:
        engine_unavailable("spark", f"pyspark is not installed: {error}")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        engine_unavailable("spark", "no java on PATH and JAVA_HOME is not set")
