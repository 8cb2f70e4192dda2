"""The CLV traits register themselves whichever module a process imports first."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("first", ["segmint.clv.traits", "segmint.profiles", "segmint"])
def test_clv_traits_are_registered_whatever_is_imported_first(first: str):
    probe = (
        f"import {first}\n"
        "from segmint.profiles.catalogue import extensions, trait\n"
        "print([e.name for e in extensions()], trait('clv_p_alive').name)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "['clv'] clv_p_alive"
