"""Test helpers: throwaway plugin distributions made on the fly, and the real ``salon`` command.

A distribution is "installed" by writing its package and a ``<name>-<version>.dist-info`` directory
(``METADATA`` + ``entry_points.txt``) into a directory that is then put on ``sys.path`` or on a
subprocess's ``PYTHONPATH``. ``importlib.metadata`` finds distributions on every ``sys.path`` entry,
so this is exactly what an installed wheel looks like to Salon's entry point loop, without a build
backend, a virtual environment or the network.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

__all__ = ["make_dist", "run_salon", "salon_env", "salon_executable"]


def make_dist(
    site: Path, distribution: str, version: str, modules: dict[str, str], entry_points: dict[str, str]
) -> Path:
    """Write a distribution into ``site`` and return ``site``.

    Args:
        site: A directory meant for ``sys.path`` / ``PYTHONPATH``.
        distribution: Its project name, e.g. ``salon-broken``.
        version: Its version.
        modules: Relative file path -> source, e.g. ``{"salon_broken/__init__.py": "raise ..."}``.
        entry_points: Entry point name -> target in the group ``salon``.
    """
    for relative, source in modules.items():
        path = site / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    info = site / f"{distribution.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n", encoding="utf-8"
    )
    group = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[salon]\n{group}", encoding="utf-8")
    return site


def salon_executable() -> list[str]:
    """The ``salon`` console script installed beside this interpreter (how users run it)."""
    scripts = [Path(sys.executable).parent / name for name in ("salon", "salon.exe")]
    found = [script for script in scripts if script.is_file()]
    assert found, f"no `salon` console script beside {sys.executable}; is the kernel installed?"
    return [str(found[0])]


def salon_env(*extra_paths: Path, **variables: str) -> dict[str, str]:
    """This process's environment without ``SALON_*`` settings, plus ``extra_paths`` on ``PYTHONPATH``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALON_")}
    if extra_paths:
        paths = [str(p) for p in extra_paths] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
        env["PYTHONPATH"] = os.pathsep.join(paths)
    env.update(variables)
    return env


def run_salon(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    module: bool = False,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run the real ``salon`` command (``python -m salon`` with ``module=True``) and capture its output."""
    command = [sys.executable, "-m", "salon"] if module else salon_executable()
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        env=salon_env() if env is None else env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
