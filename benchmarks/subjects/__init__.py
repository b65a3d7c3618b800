"""The frameworks under test, one module each, and how to load them.

``salon`` is the candidate; ``autogen`` (autogen-core 0.7.5) is the baseline every
ratio and relative target is computed against. A subject whose framework is not
importable in the interpreter chosen for it is reported as absent, not as an error.
"""

from __future__ import annotations

import importlib
from typing import cast

from benchmarks._subject import Subject

CANDIDATE = "salon"
BASELINE = "autogen"
ALL = (CANDIDATE, BASELINE)
FRAMEWORKS = ("salon", "autogen_core")


class SubjectAbsent(Exception):
    """The subject's framework is not installed in this interpreter."""


def load(name: str) -> Subject:
    """Import ``benchmarks.subjects.<name>``; raise ``SubjectAbsent`` if its framework is missing.

    Only the framework's own import failing counts as absent (not installed, or a
    development tree that lacks a public name yet); any other import error is a bug
    in the subject module and propagates.
    """
    if name not in ALL:
        raise ValueError(f"unknown subject {name!r}; known: {', '.join(ALL)}")
    try:
        module = importlib.import_module(f"benchmarks.subjects.{name}")
    except ImportError as exc:
        root = (exc.name or "").split(".")[0]
        if root in FRAMEWORKS:
            raise SubjectAbsent(f"{root}: {exc}") from exc
        raise
    return cast(Subject, module)
