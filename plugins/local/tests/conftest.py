"""Shared fixtures: the sandbox must be usable here; a missing ``bwrap`` fails the tests, never skips them."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture(autouse=True, scope="session")
def _bubblewrap_is_installed() -> None:
    if shutil.which("bwrap") is None:
        pytest.fail(
            "bubblewrap (`bwrap`) is not installed: the sandbox tests cannot run. "
            "Install it (`apt-get install bubblewrap`; CI does it through .ci/run's APT_PACKAGES).",
            pytrace=False,
        )
