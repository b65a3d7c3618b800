"""The real ``salon`` command, run as a subprocess the way users run it, with salon-echo installed.

Speed is the benchmark suite's business (``python -m benchmarks --only CLI``: ``salon plugins`` under
300 ms); here ``salon plugins`` is held to what keeps it fast: it imports no pydantic, YAML or
dependency-injector, so a plugin that makes it slow shows up as a failing test, not as a flaky timing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from plugin_dists import run_salon, salon_env

ROOT = Path(__file__).resolve().parents[1]
ECHO_YAML = ROOT / "examples" / "echo.yaml"
HEAVY_MODULES = ("pydantic", "yaml", "dependency_injector", "tomllib", "salon._container")


# --- the command itself ------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", [False, True], ids=["console-script", "python-m"])
def test_version(module: bool) -> None:
    done = run_salon("--version", module=module)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"salon {version('salon')}\n", "")


def test_help_lists_builtin_and_plugin_commands() -> None:
    done = run_salon("--help")
    assert done.returncode == 0
    for command in ("plugins", "config", "run", "echo"):
        assert f"\n    {command} " in done.stdout, done.stdout


def test_no_command_prints_usage_and_exits_2() -> None:
    done = run_salon()
    assert done.returncode == 2
    assert done.stderr.startswith("usage: salon")


def test_unknown_command_is_a_usage_error() -> None:
    done = run_salon("frobnicate")
    assert done.returncode == 2
    assert "invalid choice: 'frobnicate'" in done.stderr
    assert "Traceback" not in done.stderr


def test_plugin_command_runs() -> None:
    done = run_salon("echo", "--prefix", "> ", "hello")
    assert (done.returncode, done.stdout, done.stderr) == (0, "> hello\n", "")


# --- salon plugins stays light -----------------------------------------------------------------------------


def test_plugins_json_imports_nothing_heavy() -> None:
    """What keeps `salon plugins` under its 300 ms budget as plugins are added (see benchmarks/, target CLI)."""
    code = (
        "import json, sys\n"
        "from salon.cli import main\n"
        "assert main(['plugins', '--all', '--json']) == 0\n"
        f"heavy = [m for m in {HEAVY_MODULES!r} if m in sys.modules]\n"
        "print(json.dumps(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=salon_env(), timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    listed, _, heavy = done.stdout.rpartition("\n[")
    assert json.loads("[" + heavy) == [], f"`salon plugins` imported {heavy.strip()}"
    assert {p["name"] for p in json.loads(listed)} >= {"builtin", "echo"}


def test_a_reader_that_goes_away_gets_no_traceback() -> None:
    """`salon plugins | head -0`: the pipe is closed before salon writes; it exits quietly."""
    process = subprocess.Popen(
        [sys.executable, "-m", "salon", "plugins", "--all"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=salon_env(),
    )
    assert process.stdout is not None
    process.stdout.close()
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert stderr == ""


# --- salon config check / schema ---------------------------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_config_check_summarizes_the_example() -> None:
    done = run_salon("config", "check", "examples/echo.yaml", cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "examples/echo.yaml: OK, 2 components (plugins: builtin, echo)",
        "  runtime      local (SingleThreadedAgentRuntime)",
        "  agents.echo  echo (EchoAgent)",
    ]


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("typo.yaml", "agents:\n  echo: {use: echo, options: {prefx: x}}\n", "agents.echo.options.prefx: expected"),
        ("unknown.yaml", "agents:\n  echo: {use: ecko}\n", "agents.echo.use: expected"),
        ("type.yaml", "agents:\n  echo: {use: echo, options: {prefix: [1]}}\n", "agents.echo.options.prefix: expected"),
        ("malformed.yaml", "agents: {echo: {use: echo\n", "expected valid YAML"),
        ("section.yaml", "agnets: {}\n", "agnets: expected one of the sections"),
        ("broken.json", '{"agents": ', "expected valid JSON"),
        ("broken.toml", "agents = [", "expected valid TOML"),
    ],
)
def test_config_check_on_a_broken_config_prints_one_line_and_exits_2(
    tmp_path: Path, name: str, text: str, says: str
) -> None:
    config = write(tmp_path, name, text)
    done = run_salon("config", "check", name, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"{name}: "), done.stderr
    assert says in done.stderr
    assert "Traceback" not in done.stderr
    assert config.is_file()


def test_config_check_on_a_missing_file(tmp_path: Path) -> None:
    done = run_salon("config", "check", "nowhere.yaml", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("nowhere.yaml: ")
    assert "Traceback" not in done.stderr


def test_secrets_never_appear_in_check_output_or_errors(tmp_path: Path) -> None:
    secret = "s3cr3t-value-from-env"
    env = salon_env(SALON_TEST_SECRET=secret)
    write(tmp_path, "ok.yaml", 'agents:\n  echo: {use: echo, options: {prefix: "${SALON_TEST_SECRET}"}}\n')
    ok = run_salon("config", "check", "ok.yaml", cwd=tmp_path, env=env)
    assert ok.returncode == 0, ok.stderr
    write(tmp_path, "bad.yaml", 'agents:\n  echo: {use: echo, options: {prefix: [], extra: "${SALON_TEST_SECRET}"}}\n')
    bad = run_salon("config", "check", "bad.yaml", cwd=tmp_path, env=env)
    assert bad.returncode == 2
    for done in (ok, bad):
        assert secret not in done.stdout + done.stderr


def test_local_plugins_can_be_refused(tmp_path: Path) -> None:
    write(tmp_path, "my_agents.py", "from salon.hookspecs import hookimpl\n")
    write(tmp_path, "local.yaml", "plugins: {local: [./my_agents.py]}\n")
    assert run_salon("config", "check", "local.yaml", cwd=tmp_path).returncode == 0
    refused = run_salon("config", "check", "local.yaml", "--no-local-plugins", cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.startswith("local.yaml: plugins.local")
    assert "Traceback" not in refused.stderr


def test_config_schema_is_json_schema_with_the_echo_options() -> None:
    done = run_salon("config", "schema")
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"runtime", "agents", "team", "plugins"} <= set(schema["properties"])
    assert '"prefix"' in done.stdout, "the echo agent's options are in the schema"


def test_config_without_subcommand_shows_its_help() -> None:
    done = run_salon("config")
    assert done.returncode == 2
    assert "check" in done.stderr and "schema" in done.stderr


# --- salon run ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("module", [False, True], ids=["console-script", "python-m"])
def test_run_sends_the_task_to_the_echo_agent(module: bool) -> None:
    done = run_salon("run", "examples/echo.yaml", "--task", "hi", cwd=ROOT, module=module)
    assert (done.returncode, done.stdout, done.stderr) == (0, "echo: hi\n", "")


def test_run_without_a_task_starts_and_stops() -> None:
    done = run_salon("run", "examples/echo.yaml", cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "agents: echo" in done.stdout


TWO_AGENTS = "agents:\n  a: {use: echo, options: {prefix: 'a: '}}\n  b: {use: echo, options: {prefix: 'b: '}}\n"


def test_run_chooses_the_agent_with_agent(tmp_path: Path) -> None:
    write(tmp_path, "two.yaml", TWO_AGENTS)
    done = run_salon("run", "two.yaml", "--task", "hi", "--agent", "b", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, "b: hi\n")


@pytest.mark.parametrize(
    ("extra", "says"),
    [([], "several agents are configured (a, b); choose one with --agent NAME"), (["--agent", "c"], "'c' is not")],
)
def test_run_needs_an_unambiguous_agent(tmp_path: Path, extra: list[str], says: str) -> None:
    write(tmp_path, "two.yaml", TWO_AGENTS)
    done = run_salon("run", "two.yaml", "--task", "hi", *extra, cwd=tmp_path)
    assert done.returncode == 2
    assert says in done.stderr
    assert "Traceback" not in done.stderr


GRUMPY = """
from salon import MessageContext, RoutedAgent, message_handler
from salon.hookspecs import hookimpl


class Grumpy(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("Refuses every task.")

    @message_handler
    async def on_text(self, message: str, ctx: MessageContext) -> str:
        raise ValueError("not today")


@hookimpl
def register_agents(register):
    register("grumpy", Grumpy)
"""


def test_run_reports_an_agent_that_fails_in_one_line(tmp_path: Path) -> None:
    write(tmp_path, "grumpy.py", GRUMPY)
    write(tmp_path, "grumpy.yaml", "plugins: {local: [./grumpy.py]}\nagents:\n  g: {use: grumpy}\n")
    done = run_salon("run", "grumpy.yaml", "--task", "hi", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == "salon run: agent 'g' failed: ValueError: not today\n"
    refused = run_salon("run", "grumpy.yaml", "--task", "hi", "--no-local-plugins", cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.startswith("grumpy.yaml: plugins.local")


def test_run_on_a_missing_file(tmp_path: Path) -> None:
    missing = run_salon("run", "nowhere.yaml", "--task", "x", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.startswith("nowhere.yaml: ")
    assert "Traceback" not in missing.stderr


def test_run_with_a_team_refuses_agent_and_state_mistakes(tmp_path: Path) -> None:
    team = "agents:\n  a: {use: echo}\nteam: {use: round_robin, options: {participants: [a]}}\n"
    write(tmp_path, "team.yaml", team)
    done = run_salon("run", "team.yaml", "--task", "hi", "--agent", "a", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert "--agent 'a': this config has a team:" in done.stderr
    write(tmp_path, "solo.yaml", "agents:\n  a: {use: echo}\n")
    done = run_salon("run", "solo.yaml", "--task", "hi", "--state", "s.json", cwd=tmp_path)
    assert done.returncode == 2
    assert "--state saves a team's state, and this config has no team:" in done.stderr
