"""Salon's own benchmark suite: Salon's in-process runtime measured beside AutoGen's.

Run ``python -m benchmarks`` from the repository root (see ``benchmarks/README.md``).
The package is stdlib-only so the same code can run under a separate interpreter
that has ``autogen-core`` installed; the frameworks are imported only by the
per-subject modules in ``benchmarks.subjects``, inside the child processes.
"""
