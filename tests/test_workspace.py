"""Structural rules of the workspace (DESIGN.md §1, §3, §9), checked on the source tree.

- Every distribution (``kernel/``, ``plugins/*``, ``contrib/*`` except the plugin template) is a proper,
  typed, tested uv workspace member whose workspace dependencies resolve to this tree.
- A distribution imports only the kernel and the workspace distributions it declares (the kernel imports none).
- CI runs what the README tells a user to run, and the README's example and links work.
"""

from __future__ import annotations

import ast
import fnmatch
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from packaging.specifiers import SpecifierSet  # a dependency of pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CI_RUN = ROOT / ".ci" / "run"
NOXFILE = ROOT / "noxfile.py"
ROOT_PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

DIST_GLOBS = ("kernel", "plugins/*", "contrib/*")
NOT_DISTS = {"contrib/plugin-template"}
KERNEL = "salon"
#: The sessions that make up "the whole test suite" (README's second command, a bare ``nox``).
CI_SESSIONS = {"lint", "typecheck", "tests_kernel", "tests_plugin", "integration"}


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _req_name(requirement: str) -> str:
    """The project name of a PEP 508 requirement string."""
    found = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert found, f"not a requirement: {requirement!r}"
    return _normalize(found.group(1))


@dataclass
class Dist:
    path: Path
    rel: str
    pyproject: dict[str, Any]
    name: str = field(init=False)
    import_name: str = field(init=False)

    def __post_init__(self) -> None:
        self.name = _normalize(self.pyproject.get("project", {}).get("name", ""))
        self.import_name = self.name.replace("-", "_")

    @property
    def requires(self) -> set[str]:
        return {_req_name(r) for r in self.pyproject["project"].get("dependencies", [])}


def _candidate_dirs() -> list[Path]:
    """Every directory that should be a distribution: kernel/ and each directory under plugins/ and contrib/."""
    dirs = [ROOT / "kernel"]
    for parent in ("plugins", "contrib"):
        base = ROOT / parent
        if base.is_dir():
            dirs += sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    return [d for d in dirs if d.relative_to(ROOT).as_posix() not in NOT_DISTS]


def _dists() -> list[Dist]:
    found = []
    for d in _candidate_dirs():
        pyproject = d / "pyproject.toml"
        if pyproject.is_file():
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            found.append(Dist(d, d.relative_to(ROOT).as_posix(), data))
    return found


DISTS = _dists()
BY_NAME = {d.name: d for d in DISTS}
BY_IMPORT = {d.import_name: d for d in DISTS}


# --- distributions ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("directory", _candidate_dirs(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_distribution_directory_has_a_pyproject(directory: Path) -> None:
    assert (directory / "pyproject.toml").is_file(), (
        f"{directory.relative_to(ROOT)} is under kernel/, plugins/ or contrib/ but has no pyproject.toml; "
        "every directory there is a distribution (start from contrib/plugin-template)"
    )


def test_the_kernel_is_found() -> None:
    assert KERNEL in BY_NAME, "kernel/pyproject.toml must define the distribution 'salon'"
    assert BY_NAME[KERNEL].rel == "kernel"


@pytest.mark.parametrize("dist", DISTS, ids=lambda d: d.rel)
def test_distribution_metadata(dist: Dist) -> None:
    project = dist.pyproject.get("project", {})
    assert dist.name, f"{dist.rel}/pyproject.toml has no [project] name"
    assert project.get("version") or "version" in project.get("dynamic", []), f"{dist.rel}: no version"
    assert "build-backend" in dist.pyproject.get("build-system", {}), (
        f"{dist.rel}: no [build-system] build-backend, so uv and pip cannot build it"
    )
    requires_python = project.get("requires-python", "")
    assert requires_python, f"{dist.rel}: no requires-python (the workspace targets '>=3.11')"
    assert SpecifierSet(requires_python).contains("3.11"), (
        f"{dist.rel}: requires-python is {requires_python!r}; it must admit Python 3.11 (e.g. '>=3.11')"
    )
    if dist.rel.startswith("plugins/"):
        thing = dist.path.name
        assert dist.name == f"salon-{thing}", f"{dist.rel}: a plugin in plugins/{thing} is named 'salon-{thing}'"
    if dist.rel != "kernel":
        assert dist.name.startswith("salon-"), f"{dist.rel}: plugin distributions are named 'salon-<thing>'"


@pytest.mark.parametrize("dist", DISTS, ids=lambda d: d.rel)
def test_distribution_ships_a_typed_package(dist: Dist) -> None:
    wheel = dist.pyproject.get("tool", {}).get("hatch", {}).get("build", {}).get("targets", {}).get("wheel", {})
    packages = wheel.get("packages") or [f"src/{dist.import_name}"]
    assert f"src/{dist.import_name}" in packages, (
        f"{dist.rel}: distribution {dist.name!r} must ship the package {dist.import_name!r} from "
        f"src/{dist.import_name} (src layout; the import name is the distribution name with '_'), got {packages}"
    )
    for package in packages:
        package_dir = dist.path / package
        assert (package_dir / "__init__.py").is_file(), f"{dist.rel}/{package} is not a package (no __init__.py)"
        assert (package_dir / "py.typed").is_file(), f"{dist.rel}/{package} has no py.typed marker (PEP 561)"


@pytest.mark.parametrize("dist", DISTS, ids=lambda d: d.rel)
def test_distribution_has_its_own_tests(dist: Dist) -> None:
    tests = dist.path / "tests"
    assert tests.is_dir(), f"{dist.rel} has no tests/ directory (nox runs each distribution's tests alone)"
    assert any(tests.rglob("test_*.py")), f"{dist.rel}/tests has no test_*.py file"


@pytest.mark.parametrize("dist", DISTS, ids=lambda d: d.rel)
def test_distribution_is_a_workspace_member(dist: Dist) -> None:
    workspace = ROOT_PYPROJECT["tool"]["uv"]["workspace"]
    members = workspace.get("members", [])
    excluded = workspace.get("exclude", [])
    assert any(fnmatch.fnmatch(dist.rel, m) for m in members), (
        f"{dist.rel} is not matched by [tool.uv.workspace] members {members} in the root pyproject.toml"
    )
    assert not any(fnmatch.fnmatch(dist.rel, e) for e in excluded), f"{dist.rel} is excluded from the workspace"


@pytest.mark.parametrize("dist", DISTS, ids=lambda d: d.rel)
def test_workspace_dependencies_come_from_the_workspace(dist: Dist) -> None:
    """A dependency on another Salon distribution must resolve to this tree, never to an index."""
    root_sources = ROOT_PYPROJECT.get("tool", {}).get("uv", {}).get("sources", {})
    own_sources = dist.pyproject.get("tool", {}).get("uv", {}).get("sources", {})
    sources = {_normalize(k): v for k, v in {**root_sources, **own_sources}.items()}
    for dep in sorted(dist.requires):
        if dep.startswith("salon") and dep not in BY_NAME:
            pytest.fail(f"{dist.rel} depends on {dep!r}, which is not a distribution of this workspace")
        if dep in BY_NAME:
            assert sources.get(dep) == {"workspace": True}, (
                f"{dist.rel} depends on {dep!r}: add `{dep} = {{ workspace = true }}` to [tool.uv.sources] "
                "(root pyproject.toml or its own)"
            )


@pytest.mark.parametrize("dist", [d for d in DISTS if d.rel != "kernel"], ids=lambda d: d.rel)
def test_plugin_is_found_through_the_salon_entry_point_group(dist: Dist) -> None:
    group = dist.pyproject["project"].get("entry-points", {}).get("salon", {})
    assert group, f"{dist.rel}: no [project.entry-points.salon] table, so Salon cannot discover the plugin"
    for ep_name, target in group.items():
        module = target.split(":")[0].strip()
        assert module.split(".")[0] == dist.import_name, (
            f"{dist.rel}: entry point {ep_name!r} = {target!r} points outside its own package {dist.import_name!r}"
        )
    if dist.rel.startswith("plugins/"):
        thing = dist.path.name
        assert thing in group, f"{dist.rel}: the entry point in group 'salon' is named {thing!r} (DESIGN.md §1)"


def _imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("dist", DISTS, ids=lambda d: d.rel)
def test_imports_only_declared_distributions(dist: Dist) -> None:
    """The kernel imports no plugin; a plugin imports only itself, the kernel and what it declares (§3)."""
    allowed = {dist.import_name} | {BY_NAME[r].import_name for r in dist.requires if r in BY_NAME}
    offending = []
    for source in sorted((dist.path / "src").rglob("*.py")):
        for name in sorted(_imported_top_levels(source)):
            is_salon = name == KERNEL or name.startswith(KERNEL + "_")
            if is_salon and name not in allowed:
                offending.append(f"{source.relative_to(ROOT)} imports {name}")
    assert not offending, (
        f"{dist.rel} imports workspace packages it does not declare in [project] dependencies:\n  "
        + "\n  ".join(offending)
    )


# --- CI runs what the README says ---------------------------------------------------------------------------


def _quick_start_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = re.search(r"^## Quick start\s*$(.*?)(?=^## )", text, re.MULTILINE | re.DOTALL)
    assert section, "README.md has no '## Quick start' section"
    block = re.search(r"```(?:sh|bash|console|shell)\n(.*?)```", section.group(1), re.DOTALL)
    assert block, "README.md's Quick start has no ```sh code block"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def _bash_array(name: str) -> list[str]:
    script = CI_RUN.read_text(encoding="utf-8")
    found = re.search(rf"^{name}=\((.*?)^\)", script, re.MULTILINE | re.DOTALL)
    assert found, f".ci/run defines no {name}=( ... ) array"
    return re.findall(r'"([^"]*)"', found.group(1))


def _nox_sessions() -> tuple[set[str], list[str]]:
    """The sessions noxfile.py defines, and its default list (nox.options.sessions)."""
    tree = ast.parse(NOXFILE.read_text(encoding="utf-8"))
    defined: set[str] = set()
    default: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for dec in node.decorator_list:
                call = dec if isinstance(dec, ast.Call) else None
                target = call.func if call else dec
                if ast.unparse(target) == "nox.session":
                    names = [k.value for k in (call.keywords if call else []) if k.arg == "name"]
                    defined.add(ast.literal_eval(names[0]) if names else node.name)
        elif isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "nox.options.sessions":
            default = list(ast.literal_eval(node.value))
    return defined, default


def _split(command: str) -> list[list[str]]:
    return [shlex.split(part) for part in command.split("&&")]


def test_quick_start_is_two_commands_that_ci_runs() -> None:
    commands = _quick_start_commands()
    assert len(commands) == 2, f"README's Quick start must be exactly two commands, found {commands}"
    ci_commands = [shlex.split(c) for c in _bash_array("README_COMMANDS")]
    readme_runs = [argv for c in commands for argv in _split(c) if argv[:2] != ["pip", "install"]]
    assert readme_runs == ci_commands, (
        "README_COMMANDS in .ci/run must be the README's quick-start commands (without the pip install), "
        f"in order: README runs {readme_runs}, .ci/run runs {ci_commands}"
    )


def test_quick_start_installs_what_ci_installs_pinned() -> None:
    readme_installs = {
        _normalize(arg)
        for c in _quick_start_commands()
        for argv in _split(c)
        if argv[:2] == ["pip", "install"]
        for arg in argv[2:]
        if not arg.startswith("-")
    }
    assert readme_installs, "README's quick start installs nothing with pip; it must install nox and uv"
    script = CI_RUN.read_text(encoding="utf-8")
    # The tools CI installs with `pip install` (wheels CI only builds, like llama-cpp-python, do not count).
    install_lines = [line for line in script.splitlines() if "pip install" in line]
    pins = {_normalize(name) for line in install_lines for name in re.findall(r'"([A-Za-z0-9._-]+)==\$[A-Z_]+"', line)}
    assert readme_installs == pins, f"README installs {sorted(readme_installs)}, .ci/run pins {sorted(pins)}"


def test_quick_start_nox_sessions_exist_and_cover_the_suite() -> None:
    defined, default = _nox_sessions()
    assert set(default) <= defined, f"nox.options.sessions names undefined sessions: {set(default) - defined}"
    ran_bare_nox = False
    for command in _quick_start_commands():
        for argv in _split(command):
            if argv[:1] != ["nox"]:
                continue
            if len(argv) == 1:
                ran_bare_nox = True
            else:
                assert argv[1:2] == ["-s"], f"unexpected nox call in the README: {argv}"
                assert len(argv) == 3, f"unexpected nox call in the README: {argv}"
                assert argv[2] in defined, f"README runs nox session {argv[2]!r}, which noxfile.py does not define"
    assert ran_bare_nox, "README's Quick start must run the whole test suite with a bare `nox`"
    assert set(default) >= CI_SESSIONS, (
        f"a bare `nox` must run the whole test suite {sorted(CI_SESSIONS)}; its default list is {default}"
    )


def test_ci_runs_the_benchmark_smoke_session() -> None:
    defined, _ = _nox_sessions()
    assert "bench_smoke" in defined
    assert "nox -s bench_smoke" in _bash_array("EXTRA_COMMANDS"), ".ci/run must run `nox -s bench_smoke`"


def test_ci_script_is_strict_bash() -> None:
    lines = CI_RUN.read_text(encoding="utf-8").splitlines()
    assert lines[0] in {"#!/usr/bin/env bash", "#!/bin/bash"}
    assert "set -euo pipefail" in lines, ".ci/run must stop on errors (set -euo pipefail)"


def test_main_example_exists_and_is_linked() -> None:
    tree = ast.parse(NOXFILE.read_text(encoding="utf-8"))
    values = [
        ast.literal_eval(n.value)
        for n in tree.body
        if isinstance(n, ast.Assign) and ast.unparse(n.targets[0]) == "MAIN_EXAMPLE"
    ]
    assert values, "noxfile.py defines no MAIN_EXAMPLE"
    assert (ROOT / values[0]).is_file(), f"the main example {values[0]} does not exist"
    assert f"]({values[0]})" in README.read_text(encoding="utf-8"), f"README.md does not link to {values[0]}"


# --- the README itself --------------------------------------------------------------------------------------


def test_readme_links_resolve() -> None:
    text = README.read_text(encoding="utf-8")
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        if not (ROOT / target.split("#")[0]).exists():
            broken.append(target)
    assert not broken, f"README.md links to files that do not exist: {broken}"


def test_readme_example_runs(tmp_path: Path) -> None:
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    assert blocks, "README.md has no python example"
    script = tmp_path / "readme_example.py"
    script.write_text(blocks[0], encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path, check=False
    )
    assert done.returncode == 0, f"the README example failed:\n{done.stdout}\n{done.stderr}"
    # It ran the team on the local model and the console streamed it: the task, then the assistant's turn.
    assert "---------- TextMessage (user) ----------\nWhat is the weather in Paris?" in done.stdout, done.stdout
    assert "(assistant) ----------" in done.stdout, done.stdout
