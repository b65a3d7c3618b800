"""Plugins found through real entry points: the installed salon-echo, and distributions made on the fly.

salon-echo must be installed (the integration nox session installs every workspace distribution;
locally: ``uv pip install -e contrib/salon-echo``). The broken plugins are throwaway distributions
written into ``tmp_path`` (see ``plugin_dists``) and put on the subprocess's ``PYTHONPATH``, or on
``sys.path`` for the in-process tests.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from plugin_dists import make_dist, run_salon, salon_env

from salon import PluginManager
from salon._plugin_manager import PluginLoadError

BROKEN_ERROR = "RuntimeError: salon_broken refuses to load"


@pytest.fixture
def broken_site(tmp_path: Path) -> Path:
    """A site directory holding ``salon-broken``, whose plugin module raises on import."""
    return make_dist(
        tmp_path / "site",
        "salon-broken",
        "0.3.1",
        {"salon_broken/__init__.py": 'raise RuntimeError("salon_broken refuses to load")\n'},
        {"broken": "salon_broken"},
    )


def listing(stdout: str) -> dict[str, dict[str, Any]]:
    entries = json.loads(stdout)
    assert isinstance(entries, list)
    return {entry["name"]: entry for entry in entries}


# --- the installed salon-echo ------------------------------------------------------------------------------


def test_salon_echo_is_found_through_its_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SALON_LOAD_PLUGINS", raising=False)
    pm = PluginManager(strict=True)
    record = next((r for r in pm.records if r.name == "echo"), None)
    assert record is not None, "salon-echo is not installed: uv pip install -e contrib/salon-echo"
    assert (record.distribution, record.version) == ("salon-echo", version("salon-echo"))
    assert record.error is None and not record.builtin
    assert record.hooks == ["register_agents", "register_commands"]
    spec = pm.registry.get("agent", "echo")
    assert (spec.plugin, spec.distribution) == ("echo", "salon-echo")


def test_salon_plugins_json_lists_salon_echo_with_its_components() -> None:
    done = run_salon("plugins", "--json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    plugins = listing(done.stdout)
    assert "builtin" not in plugins, "built-ins are listed only with --all"
    echo = plugins["echo"]
    assert echo == {
        "name": "echo",
        "distribution": "salon-echo",
        "version": version("salon-echo"),
        "hooks": ["register_agents", "register_commands"],
        "error": None,
        "builtin": False,
        "components": {"agent": [{"name": "echo", "description": echo["components"]["agent"][0]["description"]}]},
    }
    assert echo["components"]["agent"][0]["description"].startswith("EchoAgent")


def test_salon_plugins_all_adds_the_kernel_builtins() -> None:
    done = run_salon("plugins", "--all", "--json")
    assert done.returncode == 0, done.stderr
    plugins = listing(done.stdout)
    builtin = plugins["builtin"]
    assert builtin["builtin"] is True
    assert (builtin["distribution"], builtin["version"]) == ("salon", version("salon"))
    assert builtin["components"]["runtime"][0]["name"] == "local"
    assert builtin["components"]["cache_store"][0]["name"] == "memory"
    assert "echo" in plugins
    assert next(iter(plugins)) == "builtin", "built-ins load first"


# --- a plugin that fails to load ---------------------------------------------------------------------------


def test_broken_plugin_shows_as_failed_and_the_rest_keeps_working(broken_site: Path) -> None:
    env = salon_env(broken_site)
    done = run_salon("plugins", "--json", env=env)
    assert done.returncode == 0, done.stderr
    plugins = listing(done.stdout)
    broken = plugins["broken"]
    assert (broken["distribution"], broken["version"], broken["builtin"]) == ("salon-broken", "0.3.1", False)
    assert broken["error"] == BROKEN_ERROR
    assert broken["hooks"] == [] and broken["components"] == {}
    assert plugins["echo"]["error"] is None
    assert plugins["echo"]["components"]["agent"][0]["name"] == "echo"

    text = run_salon("plugins", env=env)
    assert text.returncode == 0, text.stderr
    assert f"broken (salon-broken 0.3.1): FAILED\n  error: {BROKEN_ERROR}" in text.stdout
    assert "echo (salon-echo" in text.stdout

    echo = run_salon("echo", "still here", env=env)
    assert (echo.returncode, echo.stdout, echo.stderr) == (0, "echo: still here\n", "")


def test_strict_mode_makes_the_broken_plugin_an_error_naming_it_and_its_distribution(broken_site: Path) -> None:
    done = run_salon("plugins", "--json", env=salon_env(broken_site, SALON_STRICT_PLUGINS="1"))
    assert done.returncode == 1
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "'broken'" in done.stderr and "salon-broken 0.3.1" in done.stderr and BROKEN_ERROR in done.stderr
    assert run_salon("--version", env=salon_env(broken_site, SALON_STRICT_PLUGINS="1")).returncode == 0


def test_strict_plugin_manager_raises_in_process(broken_site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(broken_site))
    monkeypatch.delenv("SALON_LOAD_PLUGINS", raising=False)
    monkeypatch.setenv("SALON_STRICT_PLUGINS", "1")
    with pytest.raises(PluginLoadError, match=r"'broken' from distribution salon-broken 0\.3\.1") as raised:
        PluginManager()
    assert isinstance(raised.value.__cause__, RuntimeError)

    monkeypatch.delenv("SALON_STRICT_PLUGINS")
    pm = PluginManager()
    failed = {r.name: r.error for r in pm.records if r.error}
    assert failed == {"broken": BROKEN_ERROR}
    assert pm.registry.get("agent", "echo").distribution == "salon-echo"


def test_selection_filters_before_import(broken_site: Path) -> None:
    """SALON_LOAD_PLUGINS=echo never imports salon_broken, so it is not even listed as failed."""
    done = run_salon("plugins", "--json", env=salon_env(broken_site, SALON_LOAD_PLUGINS="echo"))
    assert done.returncode == 0, done.stderr
    assert list(listing(done.stdout)) == ["echo"]


# --- loading nothing: the kernel alone ---------------------------------------------------------------------


def test_empty_selection_loads_no_plugin(broken_site: Path) -> None:
    env = salon_env(broken_site, SALON_LOAD_PLUGINS="")
    done = run_salon("plugins", "--json", env=env)
    assert (done.returncode, json.loads(done.stdout), done.stderr) == (0, [], "")
    text = run_salon("plugins", env=env)
    assert text.stdout.startswith("No plugins installed")


def test_kernel_alone_lists_only_builtins() -> None:
    done = run_salon("plugins", "--all", "--json", env=salon_env(SALON_LOAD_PLUGINS=""))
    assert done.returncode == 0, done.stderr
    plugins = json.loads(done.stdout)
    assert [p["name"] for p in plugins] == ["builtin"]
    assert all(p["builtin"] for p in plugins)

    text = run_salon("plugins", "--all", env=salon_env(SALON_LOAD_PLUGINS=""))
    assert text.stdout.startswith(f"builtin (salon {version('salon')}) [built-in]\n")
    assert "runtime local: SingleThreadedAgentRuntime" in text.stdout


def test_plugin_commands_disappear_with_their_plugin() -> None:
    done = run_salon("echo", "hi", env=salon_env(SALON_LOAD_PLUGINS=""))
    assert done.returncode == 2
    assert "invalid choice: 'echo'" in done.stderr


# --- plugins that load but misbehave -----------------------------------------------------------------------

TWIN = """
from salon.hookspecs import hookimpl

@hookimpl
def register_agents(register):
    register("echo", lambda: None, description="a second echo")

@hookimpl
def register_commands(cli):
    raise ValueError("no commands today")
"""


def test_duplicate_names_and_failing_commands_are_reported_not_fatal(tmp_path: Path) -> None:
    site = make_dist(tmp_path / "site", "salon-twin", "1.0", {"salon_twin.py": TWIN}, {"twin": "salon_twin"})
    env = salon_env(site)
    done = run_salon("plugins", "--json", env=env)
    assert done.returncode == 0, done.stderr
    plugins = listing(done.stdout)
    assert plugins["twin"]["components"] == {"agent": [{"name": "echo", "description": "a second echo"}]}
    assert plugins["echo"]["components"]["agent"][0]["name"] == "echo"
    warnings = done.stderr.splitlines()
    assert any("'twin' (distribution salon-twin) could not add its commands" in w for w in warnings), warnings
    assert any(w.startswith("salon: warning: agent 'echo' is registered twice") for w in warnings), warnings
    assert any("salon-echo" in w and "salon-twin" in w for w in warnings), warnings
    assert "Traceback" not in done.stderr

    echo = run_salon("echo", "hi", env=env)
    assert (echo.returncode, echo.stdout) == (0, "echo: hi\n")

    strict = run_salon("plugins", "--json", env=salon_env(site, SALON_STRICT_PLUGINS="1"))
    assert strict.returncode == 1
    assert "'twin' (distribution salon-twin) could not add its commands: ValueError: no commands today" in strict.stderr
    assert "Traceback" not in strict.stderr


RAISES_ON_REGISTER = """
from salon.hookspecs import hookimpl

@hookimpl
def register_tools(register):
    raise KeyError("missing setting")
"""


def test_plugin_whose_registration_hook_raises_is_listed_as_failed(tmp_path: Path) -> None:
    site = make_dist(
        tmp_path / "site", "salon-flaky", "2.0", {"salon_flaky.py": RAISES_ON_REGISTER}, {"flaky": "salon_flaky"}
    )
    done = run_salon("plugins", "--json", env=salon_env(site))
    assert done.returncode == 0, done.stderr
    plugins = listing(done.stdout)
    assert plugins["flaky"]["error"] == "register_tools raised KeyError: 'missing setting'"
    assert plugins["echo"]["error"] is None
    assert plugins["echo"]["components"]["agent"][0]["name"] == "echo"
    assert "Traceback" not in done.stderr
