"""``contrib/plugin-template`` is what a plugin author copies: after the rename its README describes, it must
be a valid, working plugin.

The template itself cannot be imported or installed (its placeholders are not a valid distribution name),
so these tests follow the README: copy it, run the README's rename commands, and check the copy: no
placeholder is left, its pyproject declares the entry point, its module loads into a strict
``PluginManager`` (pluggy's ``check_pending``: every ``@hookimpl`` is a real hook), its components resolve,
and its own tests pass in a subprocess with the copied ``src`` on ``PYTHONPATH``.
"""

from __future__ import annotations

import fnmatch
import importlib
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from salon import PluginManager
from salon.hookspecs import PROJECT_NAME

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "contrib" / "plugin-template"
PLACEHOLDER = "PLUGIN_NAME"
COPY_IGNORE = shutil.ignore_patterns("__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", "*.egg-info")


def _readme_commands() -> str:
    """The shell block of the template README's 'Start a plugin from this template' section."""
    text = (TEMPLATE / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Start a plugin from this template\s*$(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert section, "the template README has no '## Start a plugin from this template' section"
    block = re.search(r"```(?:sh|bash|console|shell)\n(.*?)```", section.group(1), re.DOTALL)
    assert block, "that section has no ```sh block with the copy-and-rename commands"
    return block.group(1)


def _readme_plugin_name(commands: str) -> str:
    found = re.search(r"^cd salon-([a-z][a-z0-9_]*)\s*$", commands, re.MULTILINE)
    assert found, f"the README's commands do not `cd salon-<name>` into the copy:\n{commands}"
    return found.group(1)


NAME = _readme_plugin_name(_readme_commands())
PACKAGE = f"salon_{NAME}"


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the template renamed to ``salon-<NAME>`` by the README's own commands."""
    for tool in ("bash", "cp", "mv", "grep", "xargs", "sed"):
        if shutil.which(tool) is None:
            pytest.skip(f"the README's rename commands need {tool}")
    checkout = tmp_path_factory.mktemp("checkout")
    shutil.copytree(TEMPLATE, checkout / "contrib" / "plugin-template", ignore=COPY_IGNORE)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", _readme_commands()],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"the README's rename commands failed:\n{done.stdout}\n{done.stderr}"
    return checkout / f"salon-{NAME}"


@pytest.fixture
def plugin_module(plugin_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The copy's package, imported from its ``src`` and forgotten afterwards."""
    monkeypatch.syspath_prepend(str(plugin_dir / "src"))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        for module in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[module]


# --- the template in the repository -------------------------------------------------------------------------


def test_template_has_the_files_an_author_starts_from() -> None:
    for relative in (
        "README.md",
        "pyproject.toml",
        f"src/salon_{PLACEHOLDER}/__init__.py",
        f"src/salon_{PLACEHOLDER}/py.typed",
        "tests/test_plugin.py",
    ):
        assert (TEMPLATE / relative).is_file(), f"contrib/plugin-template/{relative} is missing"


def test_template_is_not_a_workspace_member() -> None:
    """Its placeholders are not a valid project; as a member it would break `uv sync` for everyone."""
    root = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    workspace = root["tool"]["uv"]["workspace"]
    rel = TEMPLATE.relative_to(ROOT).as_posix()
    member = any(fnmatch.fnmatch(rel, pattern) for pattern in workspace.get("members", []))
    excluded = any(fnmatch.fnmatch(rel, pattern) for pattern in workspace.get("exclude", []))
    assert not member or excluded, f"{rel} must not be a uv workspace member (add it to `exclude` if a glob matches)"
    sources = {key.lower() for key in root["tool"]["uv"].get("sources", {})}
    assert f"salon-{PLACEHOLDER.lower()}" not in sources


# --- a renamed copy -----------------------------------------------------------------------------------------


def test_no_placeholder_is_left(plugin_dir: Path) -> None:
    left = [
        path.relative_to(plugin_dir).as_posix()
        for path in sorted(plugin_dir.rglob("*"))
        if PLACEHOLDER in path.name or (path.is_file() and PLACEHOLDER in path.read_text(encoding="utf-8"))
    ]
    assert not left, f"{PLACEHOLDER} is still in {left} after the README's rename"


def test_pyproject_declares_the_plugin(plugin_dir: Path) -> None:
    pyproject = tomllib.loads((plugin_dir / "pyproject.toml").read_text(encoding="utf-8"))
    project = pyproject["project"]
    assert project["name"] == f"salon-{NAME}"
    assert project["entry-points"][PROJECT_NAME] == {NAME: PACKAGE}, "entry point group `salon`, name <thing>"
    assert any(re.match(r"salon\b", requirement) for requirement in project["dependencies"])
    assert pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == [f"src/{PACKAGE}"]
    assert (plugin_dir / "src" / PACKAGE / "py.typed").is_file()


def test_the_module_loads_strictly(plugin_module: ModuleType) -> None:
    manager = PluginManager(entry_points_enabled=False, strict=True)  # check_pending: no unknown hook
    manager.add_plugin(plugin_module, NAME, distribution=f"salon-{NAME}")
    record = next(r for r in manager.records if r.name == NAME)
    assert record.error is None
    assert record.hooks, "the template implements no hook"
    specs = [spec for spec in manager.registry if spec.plugin == NAME]
    assert specs, "the template registers no component"
    for spec in specs:
        assert spec.name == NAME
        assert spec.description
        assert spec.options_model is not None
        options = spec.options_model.model_validate({})  # the defaults are valid options
        assert spec.factory(**dict(options)) is not None


def test_importing_the_module_does_not_import_pydantic(plugin_dir: Path) -> None:
    code = f"import sys, {PACKAGE}; assert 'pydantic' not in sys.modules, 'the plugin imports pydantic at load'"
    env = {**os.environ, "PYTHONPATH": _pythonpath(plugin_dir)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_its_own_tests_pass(plugin_dir: Path) -> None:
    env = {**os.environ, "PYTHONPATH": _pythonpath(plugin_dir)}
    env.pop("PYTEST_ADDOPTS", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=plugin_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"the template's tests failed after the rename:\n{done.stdout}\n{done.stderr}"
    assert re.search(r"\b\d+ passed\b", done.stdout), done.stdout
    assert "skipped" not in done.stdout, f"the template's tests must all run:\n{done.stdout}"


def _pythonpath(plugin_dir: Path) -> str:
    return os.pathsep.join([str(plugin_dir / "src"), *filter(None, [os.environ.get("PYTHONPATH")])])
