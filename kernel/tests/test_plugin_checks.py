"""salon.testing's plugin checks, on throwaway plugins written to tmp_path (the kernel tests install no plugin)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from salon.testing import check_found_through_entry_point, check_plugin_stays_light

HOOK = """
from salon.hookspecs import hookimpl


@hookimpl
def register_agents(register):
    register("{name}", _make, description="A throwaway agent.")


def _make():
    from ._impl import Agent

    return Agent()
"""


def _write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def plugins_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """tmp_path on this process's sys.path and on the PYTHONPATH the checks' subprocesses inherit."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])))
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    for module in set(sys.modules) - before:
        if module.startswith(("salon_feather", "salon_leaden", "feather_sdk")):
            del sys.modules[module]


def test_a_light_plugin_passes(plugins_on_path: Path) -> None:
    _write(
        plugins_on_path,
        {
            "feather_sdk.py": "",
            "salon_feather/__init__.py": HOOK.format(name="feather"),
            "salon_feather/_impl.py": "import feather_sdk\n\nclass Agent:\n    pass\n",
        },
    )
    check_plugin_stays_light("salon_feather", "feather", heavy=["feather_sdk", "salon_feather._impl"])


def test_a_heavy_import_is_named_with_who_imported_it(plugins_on_path: Path) -> None:
    _write(
        plugins_on_path,
        {
            "feather_sdk/__init__.py": "",
            "feather_sdk/client.py": "",
            "salon_leaden/__init__.py": "from . import _impl\n" + HOOK.format(name="leaden"),
            "salon_leaden/_impl.py": "import feather_sdk.client\n\nclass Agent:\n    pass\n",
        },
    )
    with pytest.raises(AssertionError) as raised:
        check_plugin_stays_light("salon_leaden", "leaden", heavy=["feather_sdk", "salon_leaden._impl", "pydantic"])
    message = str(raised.value)
    assert "feather_sdk: imported by salon_leaden._impl line 1 <- salon_leaden line 1" in message
    assert "salon_leaden._impl: imported by salon_leaden line 1" in message
    assert "pydantic" not in message.split("Every salon command")[0]


def test_a_module_without_hooks_or_that_fails_to_load_is_reported(plugins_on_path: Path) -> None:
    _write(
        plugins_on_path,
        {
            "salon_feather_empty/__init__.py": "",
            "salon_feather_typo/__init__.py": HOOK.format(name="typo").replace("register_agents", "register_agent"),
        },
    )
    with pytest.raises(AssertionError, match="implements no Salon hook"):
        check_plugin_stays_light("salon_feather_empty", "empty", heavy=["pydantic"])
    with pytest.raises(AssertionError, match=r"(?s)failed in a fresh interpreter.*register_agent"):
        check_plugin_stays_light("salon_feather_typo", "typo", heavy=["pydantic"])
    with pytest.raises(ValueError, match="heavy modules"):
        check_plugin_stays_light("salon_feather_empty", "empty", heavy=[])


@pytest.fixture
def installed_feather(plugins_on_path: Path) -> Path:
    """A distribution ``salon-feather`` 1.2.3 "installed" on sys.path: its dist-info declares the entry point."""
    _write(
        plugins_on_path,
        {
            "salon_feather/__init__.py": HOOK.format(name="feather"),
            "salon_feather/_impl.py": "class Agent:\n    pass\n",
            "salon_feather-1.2.3.dist-info/METADATA": "Metadata-Version: 2.1\nName: salon-feather\nVersion: 1.2.3\n",
            "salon_feather-1.2.3.dist-info/entry_points.txt": "[salon]\nfeather = salon_feather\n",
        },
    )
    return plugins_on_path


def test_a_plugin_found_through_its_entry_point_passes(installed_feather: Path) -> None:
    record = check_found_through_entry_point("feather", distribution="salon-feather", components={"agent": ["feather"]})
    assert (record.name, record.version, record.hooks, record.error) == ("feather", "1.2.3", ["register_agents"], None)


def test_a_wrong_entry_point_is_reported(installed_feather: Path) -> None:
    with pytest.raises(AssertionError, match=r"No installed plugin has the entry point 'fether'.*salon-feather"):
        check_found_through_entry_point("fether", distribution="salon-feather", components={})
    with pytest.raises(AssertionError, match=r"comes from distribution 'salon-feather', not 'salon-quill'"):
        check_found_through_entry_point("feather", distribution="salon-quill", components={})
    with pytest.raises(AssertionError) as raised:
        check_found_through_entry_point(
            "feather", distribution="salon-feather", components={"agent": ["feather", "quill"], "runtime": ["local"]}
        )
    message = str(raised.value)
    assert "agent 'quill': registered by nothing (registered: feather)" in message
    assert "runtime 'local': registered by distribution 'salon' " in message
    assert "'feather'" not in message.replace("Plugin 'feather'", "").replace("registered: feather", "")


def test_a_plugin_that_fails_to_load_through_its_entry_point_raises(installed_feather: Path) -> None:
    (installed_feather / "salon_feather" / "__init__.py").write_text("raise ImportError('no SDK')\n", encoding="utf-8")
    with pytest.raises(AssertionError, match=r"failed to load: .*no SDK"):
        check_found_through_entry_point("feather", distribution="salon-feather", components={"agent": ["feather"]})


def test_a_registration_hook_that_raises_is_reported(installed_feather: Path) -> None:
    hook = HOOK.format(name="feather").replace('register("feather"', 'raise RuntimeError("no key"); register("x"')
    (installed_feather / "salon_feather" / "__init__.py").write_text(hook, encoding="utf-8")
    with pytest.raises(AssertionError, match=r"failed to load: .*register_agents raised RuntimeError: no key"):
        check_found_through_entry_point("feather", distribution="salon-feather", components={"agent": ["feather"]})
