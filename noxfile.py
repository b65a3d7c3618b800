"""Nox sessions for the Salon workspace (virtual environments made by uv).

``nox`` alone runs the CI suite: lint, typecheck, tests_kernel, tests_plugin, integration.
Other sessions: ``example``, ``bench``, ``bench_smoke``. ``nox -l`` lists them all.

Isolation rules (DESIGN.md §8/§9, pydantic-ai's way):

- ``tests_kernel`` installs the kernel distribution alone (a built wheel, not the source tree) plus the
  test tools, so the kernel is proven to work with no plugin installed.
- ``tests_plugin(<dist>)`` is generated for every ``plugins/*`` and ``contrib/*`` distribution that has a
  ``pyproject.toml``; each gets that distribution, the workspace distributions it declares as dependencies,
  their PyPI dependencies, and the test tools. Nothing else.
- ``integration`` installs every workspace distribution and runs the cross-distribution ``tests/``.

Versions: the test and lint tools come from the root ``pyproject.toml`` dependency groups. When ``uv.lock``
exists it is used as a constraints file for every session (so CI runs the locked versions), and ``lint``
checks that it is up to date. Every environment is recreated on each run; uv's download and build cache
(``~/.cache/uv``, or ``UV_CACHE_DIR``) keeps that fast.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nox
from nox.command import CommandFailed
from packaging.requirements import Requirement

nox.needs_version = ">=2025.2.9"  # nox.project.dependency_groups
nox.options.default_venv_backend = "uv"
nox.options.error_on_external_run = True
nox.options.sessions = ["lint", "typecheck", "tests_kernel", "tests_plugin", "integration"]

ROOT = Path(__file__).resolve().parent
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
LOCKFILE = ROOT / "uv.lock"

#: Where distributions live, relative to the root. ``contrib/plugin-template`` is a template, not a distribution.
DIST_GLOBS = ("kernel", "plugins/*", "contrib/*")
NOT_DISTS = frozenset({"contrib/plugin-template"})

KERNEL = "salon"
#: The peer the benchmarks compare against, installed in a venv of its own (never next to salon).
AUTOGEN_CORE = "autogen-core==0.7.5"
#: The team workloads (W6) also need the peer's AgentChat layer and its replay model client; the distributed
#: workloads (D1-D3) its gRPC runtime.
AUTOGEN_PEER = (AUTOGEN_CORE, "autogen-agentchat==0.7.5", "autogen-ext[grpc]==0.7.5")
BENCH_SMOKE_ARGS = ("--scale", "0.02", "--reps", "1")
MAIN_EXAMPLE = "examples/writer_critic.yaml"
#: The task the main example runs with (README's quick start: `nox -s example`).
MAIN_TASK = "Write a haiku about autumn leaves."
#: What the main example needs: the team layer and the local model (offline, no API key).
EXAMPLE_DISTS = ("salon-agentchat", "salon-teams", "salon-llamacpp")


def _normalize(name: str) -> str:
    """PEP 503 name normalization (``Salon_OpenAI`` -> ``salon-openai``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _group(pyproject: dict[str, Any], group: str) -> tuple[str, ...]:
    """Requirements of a ``[dependency-groups]`` entry; empty if the file has no such group."""
    if group not in pyproject.get("dependency-groups", {}):
        return ()
    return tuple(nox.project.dependency_groups(pyproject, group))


def _pick(requirements: Iterable[str], *names: str) -> list[str]:
    """The requirements (with their version specifiers) whose project name is one of ``names``."""
    wanted = {_normalize(n) for n in names}
    return [r for r in requirements if _normalize(Requirement(r).name) in wanted]


@dataclass(frozen=True)
class Dist:
    """One distribution of the workspace."""

    name: str  #: normalized distribution name, e.g. ``salon-openai``
    path: str  #: its directory, relative to the root, POSIX style, e.g. ``plugins/openai``
    requires: tuple[str, ...]  #: normalized names of all its runtime requirements
    test_requires: tuple[str, ...]  #: its own ``test`` dependency group, if it declares one
    extras: tuple[str, ...]  #: the names of its optional-dependency sets

    @property
    def tests(self) -> str:
        return f"{self.path}/tests"


def _discover() -> dict[str, Dist]:
    dists: dict[str, Dist] = {}
    for pattern in DIST_GLOBS:
        for pyproject_path in sorted(ROOT.glob(f"{pattern}/pyproject.toml")):
            rel = pyproject_path.parent.relative_to(ROOT).as_posix()
            if rel in NOT_DISTS:
                continue
            data = nox.project.load_toml(pyproject_path)
            project = data.get("project", {})
            if "name" not in project:
                continue
            name = _normalize(project["name"])
            requires = tuple(_normalize(Requirement(r).name) for r in project.get("dependencies", []))
            extras = tuple(project.get("optional-dependencies", {}))
            dists[name] = Dist(name, rel, requires, _group(data, "test"), extras)
    return dists


WORKSPACE = _discover()
PLUGINS = [d for d in WORKSPACE.values() if d.name != KERNEL]
TEST_TOOLS = _group(PYPROJECT, "test")
LINT_TOOLS = _group(PYPROJECT, "lint")


def _closure(names: Iterable[str]) -> list[Dist]:
    """The named workspace distributions plus every workspace distribution they depend on, transitively."""
    seen: dict[str, Dist] = {}
    todo = list(names)
    while todo:
        name = _normalize(todo.pop())
        if name in seen or name not in WORKSPACE:
            continue
        seen[name] = WORKSPACE[name]
        todo.extend(seen[name].requires)
    return sorted(seen.values(), key=lambda d: (d.name != KERNEL, d.name))


def _lock_constraints(session: nox.Session) -> list[str]:
    """``-c <file>`` pinning everything to uv.lock's versions, or nothing when there is no lock yet."""
    if not LOCKFILE.exists():
        return []
    out = Path(session.create_tmp()) / "uv-lock-constraints.txt"
    session.run_install(
        "uv",
        "export",
        "--frozen",
        "--all-packages",
        "--all-groups",
        "--all-extras",
        "--no-emit-workspace",
        "--no-hashes",
        "--no-header",
        "--no-annotate",
        "--quiet",
        "--output-file",
        str(out),
        silent=True,
    )
    return ["-c", str(out)]


def _install(
    session: nox.Session,
    dists: Sequence[Dist] = (),
    requirements: Iterable[str] = (),
    *,
    editable: bool = False,
    all_extras: bool = False,
) -> None:
    """Install workspace distributions (built from source every time) plus extra requirements.

    Local paths are passed explicitly so that a workspace dependency such as ``salon`` always comes
    from this tree, never from an index. ``--reinstall-package`` makes uv rebuild them: by default uv
    reuses a wheel it built earlier until the distribution's pyproject.toml changes.
    """
    args: list[str] = [*_lock_constraints(session), *requirements]
    for dist in dists:
        path = f"./{dist.path}"  # "./" matters: a bare "kernel" is the name of an unrelated project on PyPI
        if all_extras and dist.extras:
            path += f"[{','.join(dist.extras)}]"
        args += ["--reinstall-package", dist.name]
        args += ["-e", path] if editable else [path]
    if args:
        session.install(*args)


def _pytest(session: nox.Session, paths: Sequence[str], *, allow_empty: bool = False) -> None:
    """Run pytest from the root (the root pyproject.toml holds the pytest settings).

    ``allow_empty`` accepts pytest's exit code 5 ("no tests collected"), and only that; failures still fail.
    """
    session.run("python", "-m", "pytest", *paths, *session.posargs, success_codes=[0, 5] if allow_empty else [0])


def _has_test_files(directory: Path) -> bool:
    return any(directory.rglob("test_*.py")) or any(directory.rglob("*_test.py"))


# --- static checks ---------------------------------------------------------------------------------------


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff lint and format check over the whole repository (config: root pyproject.toml)."""
    if LOCKFILE.exists():
        session.run_install("uv", "lock", "--check")  # uv.lock is committed and must match the pyproject files
    _install(session, requirements=_pick(LINT_TOOLS, "ruff"))
    checks = {
        "ruff check": ["ruff", "check", *(["--output-format=concise"] if os.environ.get("CI") else []), "."],
        "ruff format --check": ["ruff", "format", "--check", "--diff", "."],
    }
    failed = []
    for label, command in checks.items():  # run both, so that one CI run reports both
        try:
            session.run(*command)
        except CommandFailed:
            failed.append(label)
    if failed:
        session.error(f"{' and '.join(failed)} failed (`ruff check --fix .` and `ruff format .` fix most of it)")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict (root config) over every distribution's src/ and the examples, all extras installed."""
    dists = list(WORKSPACE.values())
    # The test tools too: salon.testing (conformance suites for plugin authors) imports pytest.
    tools = [*_pick(LINT_TOOLS, "mypy"), *TEST_TOOLS, *(r for d in dists for r in d.test_requires)]
    _install(session, dists, tools, editable=True, all_extras=True)
    targets = [f"{d.path}/src" for d in dists if (ROOT / d.path / "src").is_dir()]
    targets += ["examples"] if (ROOT / "examples").is_dir() else []
    session.run("mypy", *targets, *session.posargs)


# --- tests -----------------------------------------------------------------------------------------------


@nox.session
def tests_kernel(session: nox.Session) -> None:
    """Kernel tests with only the kernel (a built wheel) and the test tools installed."""
    kernel = WORKSPACE[KERNEL]
    _install(session, [kernel], [*TEST_TOOLS, *kernel.test_requires])
    _pytest(session, [kernel.tests])


@nox.session
@nox.parametrize("dist", [nox.param(d.name, id=d.name) for d in PLUGINS])
def tests_plugin(session: nox.Session, dist: str) -> None:
    """One plugin's tests, with that plugin, its declared dependencies and the test tools only.

    There is one session per ``plugins/*`` and ``contrib/*`` distribution, e.g.
    ``nox -s "tests_plugin(salon-echo)"``; with none, nox reports the session as skipped.
    """
    plugin = WORKSPACE[dist]
    dists = _closure([plugin.name])
    _install(session, dists, [*TEST_TOOLS, *plugin.test_requires])
    _pytest(session, [plugin.tests])


@nox.session
def integration(session: nox.Session) -> None:
    """Everything in the workspace installed (with all extras); runs the cross-distribution tests in tests/."""
    dists = list(WORKSPACE.values())
    _install(session, dists, [*TEST_TOOLS, *(r for d in dists for r in d.test_requires)], all_extras=True)
    _pytest(session, ["tests"], allow_empty=not _has_test_files(ROOT / "tests"))


# --- example and benchmarks ------------------------------------------------------------------------------


@nox.session
def example(session: nox.Session) -> None:
    """Run the main example: a writer/critic team on the local model, offline, streamed to the terminal.

    ``nox -s example -- examples/graph_flow.yaml --task "..."`` runs another config the same way, and
    ``nox -s example -- examples/runtime_quickstart.py`` a Python example.
    """
    _install(session, _closure(EXAMPLE_DISTS))
    target, *args = session.posargs or [MAIN_EXAMPLE, "--task", MAIN_TASK]
    if target.endswith(".py"):
        session.run("python", target, *args)
    else:
        session.run("salon", "run", target, *args)


def _autogen_python(session: nox.Session, *, required: bool) -> str | None:
    """Python of a separate venv holding the peer (autogen-core), created once and then reused.

    It lives next to the session venvs (``.nox/``) and is never mixed with salon's environment.
    When ``required`` is false a failed install only warns, and the benchmarks run without the peer.
    """
    venv = Path(session.virtualenv.location).parent / ("_peer-" + re.sub(r"[^A-Za-z0-9.]+", "-", AUTOGEN_CORE))
    python = venv / "bin" / "python"
    try:
        if not python.exists():
            session.run_install("uv", "venv", "--quiet", "--python", f"{session.bin}/python", str(venv))
        session.run_install("uv", "pip", "install", "--quiet", "--python", str(python), *AUTOGEN_PEER)
    except CommandFailed:
        if required:
            raise
        session.warn(f"could not install {AUTOGEN_CORE}; running the benchmarks without the AutoGen peer")
        return None
    return str(python)


def _bench(session: nox.Session, args: Sequence[str], *, peer_required: bool) -> None:
    if not (ROOT / "benchmarks" / "__main__.py").exists():
        session.skip("benchmarks/__main__.py does not exist yet")
    # Every workspace distribution: the CLI workload's target is "salon plugins with every plugin installed".
    _install(session, _closure(WORKSPACE), _group(PYPROJECT, "bench"))
    peer = _autogen_python(session, required=peer_required)
    peer_args = ["--autogen-python", peer] if peer else []
    session.run("python", "-m", "benchmarks", *peer_args, *args, *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmark suite beside AutoGen 0.7.5 (``nox -s bench -- --scale 0.5``: arguments go to the suite)."""
    _bench(session, [], peer_required=True)


@nox.session
def bench_smoke(session: nox.Session) -> None:
    """A tiny run of every benchmark (CI runs it so the benchmark code cannot rot); the peer is optional."""
    # Results go to the session's tmp dir, so a smoke run never overwrites benchmarks/results/.
    out = Path(session.create_tmp()) / "bench-smoke.json"
    _bench(session, [*BENCH_SMOKE_ARGS, "--out", str(out)], peer_required=False)
