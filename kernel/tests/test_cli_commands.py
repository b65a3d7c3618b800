"""The ``salon`` command line with the kernel alone: in-process plugins, local plugin files, no install.

The cross-distribution tests (``tests/test_cli.py``) run the installed command with salon-echo; these
run ``salon.cli.main`` in this process with a plugin manager the test builds, so they need nothing
but the kernel.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from salon import PluginManager, __version__
from salon._cli_plugins import plugin_listing, render_text
from salon.cli import main
from salon.hookspecs import hookimpl


def kernel_only() -> PluginManager:
    return PluginManager(entry_points_enabled=False)


def with_plugins(**plugins: object) -> PluginManager:
    pm = kernel_only()
    for name, plugin in plugins.items():
        pm.add_plugin(plugin, name, distribution=f"salon-{name}", version="1.2.3")
    return pm


class Greeter:
    """An in-process plugin: one tool and one command."""

    @hookimpl
    def register_tools(self, register: Any) -> None:
        register("greet", lambda: "hello", description="Says hello.")

    @hookimpl
    def register_commands(self, cli: Any) -> None:
        parser = cli.add_parser("greet", help="say hello")
        parser.add_argument("name")
        parser.set_defaults(handler=lambda args: print(f"hello {args.name}") or 0)


class Clashing:
    """Registers a tool name Greeter already has, and a command named like a built-in one."""

    @hookimpl
    def register_tools(self, register: Any) -> None:
        register("greet", lambda: "hi")

    @hookimpl
    def register_commands(self, cli: Any) -> None:
        cli.add_parser("plugins")


class RaisingRegistration:
    @hookimpl
    def register_memories(self, register: Any) -> None:
        raise RuntimeError("no memory")


def run(capsys: pytest.CaptureFixture[str], *argv: str, pm: PluginManager | None = None) -> tuple[int, str, str]:
    status = main(list(argv), plugin_manager=pm or kernel_only())
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(autouse=True)
def _no_salon_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SALON_LOAD_PLUGINS", "SALON_STRICT_PLUGINS"):
        monkeypatch.delenv(name, raising=False)


# --- version and help --------------------------------------------------------------------------------------


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--version") == (0, f"salon {__version__}\n", "")


def test_version_does_not_need_the_plugins(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """`salon --version` is what a bug report asks for; it must work even when a plugin cannot load."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("plugins loaded for --version")

    monkeypatch.setattr("salon._plugin_manager.PluginManager.__init__", refuse)
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"salon {__version__}\n"


def test_usage_errors_and_help_return_their_status(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "plugins", "--bogus")
    assert status == 2
    assert "unrecognized arguments: --bogus" in err
    status, out, _ = run(capsys, "--help")
    assert status == 0
    assert out.startswith("usage: salon")


def test_no_command_shows_help_with_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys)
    assert status == 2
    assert err.startswith("usage: salon") and "plugins" in err and "config" in err and "run" in err


# --- salon plugins -----------------------------------------------------------------------------------------


def test_kernel_alone_lists_only_builtins(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "plugins")
    assert status == 0
    assert out.startswith("No plugins installed")
    status, out, _ = run(capsys, "plugins", "--all", "--json")
    entries = json.loads(out)
    assert [(e["name"], e["builtin"], e["distribution"]) for e in entries] == [("builtin", True, "salon")]
    assert [c["name"] for c in entries[0]["components"]["runtime"]] == ["local"]


def test_empty_selection_loads_no_plugin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALON_LOAD_PLUGINS", "")
    status = main(["plugins", "--json"])  # the default plugin manager, which reads the variable
    assert status == 0
    assert json.loads(capsys.readouterr().out) == []


def test_lists_an_in_process_plugin(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "plugins", "--json", pm=with_plugins(greeter=Greeter()))
    assert (status, err) == (0, "")
    assert json.loads(out) == [
        {
            "name": "greeter",
            "distribution": "salon-greeter",
            "version": "1.2.3",
            "hooks": ["register_commands", "register_tools"],
            "error": None,
            "builtin": False,
            "components": {"tool": [{"name": "greet", "description": "Says hello."}]},
        }
    ]
    status, out, _ = run(capsys, "plugins", pm=with_plugins(greeter=Greeter()))
    assert out.splitlines() == [
        "greeter (salon-greeter 1.2.3)",
        "  hooks: register_commands, register_tools",
        "  tool greet: Says hello.",
    ]


def test_plugin_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "greet", "Ada", pm=with_plugins(greeter=Greeter())) == (0, "hello Ada\n", "")


def test_clashes_are_warnings_that_keep_everything_listed(capsys: pytest.CaptureFixture[str]) -> None:
    pm = with_plugins(greeter=Greeter(), clashing=Clashing())
    status, out, err = run(capsys, "plugins", "--json", pm=pm)
    assert status == 0
    by_name = {e["name"]: e for e in json.loads(out)}
    assert by_name["greeter"]["components"]["tool"][0]["name"] == "greet"
    assert by_name["clashing"]["components"]["tool"][0]["name"] == "greet"
    lines = err.splitlines()
    assert len(lines) == 2, err
    assert "plugin 'clashing' (distribution salon-clashing) could not add its commands" in lines[0]
    assert "conflicting subparser: plugins" in lines[0]
    assert lines[1].startswith("salon: warning: tool 'greet' is registered twice")
    assert "salon-greeter" in lines[1] and "salon-clashing" in lines[1]


def test_strict_mode_turns_warnings_into_errors(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALON_STRICT_PLUGINS", "1")
    status, out, err = run(capsys, "plugins", pm=with_plugins(greeter=Greeter(), clashing=Clashing()))
    assert (status, out) == (1, "")
    assert err.startswith("salon: error: plugin 'clashing' (distribution salon-clashing) could not add its commands")
    status, _, err = run(capsys, "plugins", pm=with_plugins(flaky=RaisingRegistration()))
    assert status == 1
    assert "'flaky'" in err and "register_memories raised RuntimeError: no memory" in err


def test_a_registration_hook_that_raises_marks_its_plugin_failed(capsys: pytest.CaptureFixture[str]) -> None:
    pm = with_plugins(greeter=Greeter(), flaky=RaisingRegistration())
    entries, warnings = plugin_listing(pm)
    by_name = {e["name"]: e for e in entries}
    assert by_name["flaky"]["error"] == "register_memories raised RuntimeError: no memory"
    assert by_name["greeter"]["error"] is None
    assert by_name["greeter"]["components"] == {"tool": [{"name": "greet", "description": "Says hello."}]}
    assert warnings == []  # the plugin manager records the failure; the listing shows it, no separate warning
    assert "flaky (salon-flaky 1.2.3): FAILED\n  error: register_memories raised" in render_text(entries)


def test_plugins_never_resolves_option_models() -> None:
    """Listing reads names and descriptions only; an options model is imported when a config needs it."""
    asked: list[str] = []

    def options() -> None:
        asked.append("options")

    class Lazy:
        @hookimpl
        def register_tools(self, register: Any) -> None:
            register("lazy", object, options=options)

    entries, _ = plugin_listing(with_plugins(lazy=Lazy()))
    assert entries[0]["components"] == {"tool": [{"name": "lazy", "description": ""}]}
    assert asked == []


# --- salon config / run with a local plugin file -----------------------------------------------------------

SHOUTER = """
from pydantic import BaseModel, ConfigDict

from salon import MessageContext, RoutedAgent, message_handler
from salon.hookspecs import hookimpl


class ShouterOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    suffix: str = "!"


class Shouter(RoutedAgent):
    def __init__(self, suffix: str = "!") -> None:
        super().__init__("Shouts.")
        self._suffix = suffix

    @message_handler
    async def on_text(self, message: str, ctx: MessageContext) -> str:
        return message.upper() + self._suffix


@hookimpl
def register_agents(register):
    register("shouter", Shouter, options=ShouterOptions, description="Shouts.")
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory holding a local plugin file and configs that use it; the current directory."""
    (tmp_path / "shouter.py").write_text(textwrap.dedent(SHOUTER), encoding="utf-8")
    (tmp_path / "salon.yaml").write_text(
        "plugins: {local: [./shouter.py]}\nruntime: {use: local}\n"
        "agents:\n  loud: {use: shouter, options: {suffix: '!!'}}\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_config_check_summary(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    status, out, err = run(capsys, "config", "check", "salon.yaml")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("salon.yaml: OK, 2 components (plugins: builtin, ")
    assert lines[0].endswith("local:shouter.py)")
    assert lines[1:] == ["  runtime      local (SingleThreadedAgentRuntime)", "  agents.loud  shouter (Shouter)"]


def test_config_check_refuses_local_plugins_on_request(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    status, out, err = run(capsys, "config", "check", "salon.yaml", "--no-local-plugins")
    assert (status, out) == (2, "")
    assert err.startswith("salon.yaml: plugins.local") and err.count("\n") == 1


def test_config_check_error_is_the_message_alone(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    (project / "bad.yaml").write_text(
        "plugins: {local: [./shouter.py]}\nagents:\n  loud: {use: shouter, options: {sufix: '?'}}\n", encoding="utf-8"
    )
    status, out, err = run(capsys, "config", "check", "bad.yaml")
    assert (status, out) == (2, "")
    assert err.startswith("bad.yaml: agents.loud.options.sufix: expected ")
    assert err.count("\n") == 1


def test_run_sends_the_task(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    assert run(capsys, "run", "salon.yaml", "--task", "hi") == (0, "HI!!\n", "")
    assert run(capsys, "run", "salon.yaml", "--task", "hi", "--agent", "loud") == (0, "HI!!\n", "")


def test_run_without_agents(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    (project / "empty.yaml").write_text("runtime: {use: local}\n", encoding="utf-8")
    status, out, err = run(capsys, "run", "empty.yaml", "--task", "hi")
    assert (status, out) == (2, "")
    assert err == "empty.yaml: agents: there is no agent to send the task to; configure one.\n"


SCRIPTED_TEAM = '''
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from salon.hookspecs import hookimpl


class ScriptedTeamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lines: list[str]
    fail_after: int | None = None


@dataclass
class Said:
    source: str
    content: str

    def to_text(self) -> str:
        return self.content


@dataclass
class Finished:
    stop_reason: str


class ScriptedTeam:
    """A team as far as `salon run` cares: run_stream yields messages ("source: text" lines), then its result."""

    def __init__(self, lines, fail_after=None):
        self.lines = lines
        self.fail_after = fail_after

    async def run_stream(self, task):
        yield Said("user", task)
        for number, line in enumerate(self.lines, 1):
            source, _, content = line.partition(": ")
            yield Said(source, content)
            if number == self.fail_after:
                raise LookupError(f"no line after {number}")
        yield Finished(stop_reason=f"{len(self.lines)} lines said")


@hookimpl
def register_team_strategies(register):
    register("scripted", ScriptedTeam, options=ScriptedTeamOptions, description="Says its lines.")
'''


@pytest.fixture
def team_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory holding a local plugin file with a team strategy; the current directory."""
    (tmp_path / "scripted_team.py").write_text(textwrap.dedent(SCRIPTED_TEAM), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_team_config(project: Path, options: str) -> str:
    """A config whose team is the local plugin's, loading no installed plugin (so none implements run_console)."""
    (project / "team.yaml").write_text(
        f"plugins: {{load: [], local: [./scripted_team.py]}}\nteam: {{use: scripted, options: {options}}}\n",
        encoding="utf-8",
    )
    return "team.yaml"


def test_run_prints_a_team_stream_as_text_when_no_plugin_renders_it(
    capsys: pytest.CaptureFixture[str], team_project: Path
) -> None:
    config = write_team_config(team_project, "{lines: ['writer: A haiku.', 'critic: APPROVE']}")
    status, out, err = run(capsys, "run", config, "--task", "Write a haiku.")
    assert (status, err) == (0, "")
    assert out == (
        "---------- user ----------\n"
        "Write a haiku.\n"
        "---------- writer ----------\n"
        "A haiku.\n"
        "---------- critic ----------\n"
        "APPROVE\n"
        "stop reason: 2 lines said\n"
    )


def test_run_reports_a_team_that_fails_after_printing_what_it_said(
    capsys: pytest.CaptureFixture[str], team_project: Path
) -> None:
    config = write_team_config(team_project, "{lines: ['writer: One.', 'critic: Two.'], fail_after: 1}")
    status, out, err = run(capsys, "run", config, "--task", "Go.")
    assert status == 1
    assert out == "---------- user ----------\nGo.\n---------- writer ----------\nOne.\n"
    assert err == "salon run: the team failed: LookupError: no line after 1\n"


def test_config_schema_holds_the_builtins(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "config", "schema")
    assert status == 0
    schema = json.loads(out)
    assert "runtime" in schema["properties"]
    assert "ignore_unhandled_exceptions" in out


def test_handlers_get_the_plugin_manager(capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[object] = []

    def spy(args: SimpleNamespace) -> int:
        seen.append(args.plugin_manager)
        return 0

    class Spy:
        @hookimpl
        def register_commands(self, cli: Any) -> None:
            cli.add_parser("spy").set_defaults(handler=spy)

    pm = with_plugins(spy=Spy())
    assert run(capsys, "spy", pm=pm)[0] == 0
    assert seen == [pm]


def test_interrupt_exits_130(capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(args: SimpleNamespace) -> int:
        raise KeyboardInterrupt

    class Interrupting:
        @hookimpl
        def register_commands(self, cli: Any) -> None:
            cli.add_parser("wait").set_defaults(handler=interrupted)

    status, _, err = run(capsys, "wait", pm=with_plugins(waiting=Interrupting()))
    assert (status, err) == (130, "salon: interrupted\n")
