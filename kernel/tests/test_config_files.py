"""Config files: YAML, TOML and JSON compose the same components; parser errors; ${ENV}; plugins."""

from __future__ import annotations

import json
import logging
import textwrap
from pathlib import Path
from typing import Any

import pytest
from test_config_support import ENV, SECRET, NoteOptions, base_config, make_pm, write_config

from salon._component_dump import dump_component
from salon._config_errors import ConfigError
from salon._container import Container
from salon.hookspecs import hookimpl

YAML_TEXT = """\
# A team of two helpers sharing one model client.
plugins: [testplug]
runtime: {use: local, options: {ignore_unhandled_exceptions: true}}
cache_stores:
  mem: {use: memory}
model_clients:
  gpt:
    use: fake
    options: {model: m-1, api_key: "${TEST_API_KEY}", temperature: 0.5}
tools:
  add: {use: adder, options: {offset: 2}}
agents:
  writer: {use: helper, options: {model_client: gpt, system_message: W, tools: [add]}}
  critic: {use: helper, options: {model_client: gpt, system_message: C, peers: [writer]}}
  notes: {use: note, options: {text: remember}}
team:
  use: round_robin
  options:
    participants: [writer, critic]
    termination:
      any:
        - {use: max_messages, options: {max_messages: 8}}
        - {use: text_mention, options: {text: APPROVE}}
"""

TOML_TEXT = """\
# A team of two helpers sharing one model client.
plugins = ["testplug"]

[runtime]
use = "local"
options = { ignore_unhandled_exceptions = true }

[cache_stores.mem]
use = "memory"

[model_clients.gpt]
use = "fake"
options = { model = "m-1", api_key = "${TEST_API_KEY}", temperature = 0.5 }

[tools.add]
use = "adder"
options = { offset = 2 }

[agents.writer]
use = "helper"
options = { model_client = "gpt", system_message = "W", tools = ["add"] }

[agents.critic]
use = "helper"
options = { model_client = "gpt", system_message = "C", peers = ["writer"] }

[agents.notes]
use = "note"
options = { text = "remember" }

[team]
use = "round_robin"

[team.options]
participants = ["writer", "critic"]

[[team.options.termination.any]]
use = "max_messages"
options = { max_messages = 8 }

[[team.options.termination.any]]
use = "text_mention"
options = { text = "APPROVE" }
"""

JSON_TEXT = json.dumps(base_config(), indent=2)


@pytest.mark.parametrize(
    ("name", "text"), [("salon.yml", YAML_TEXT), ("salon.toml", TOML_TEXT), ("salon.json", JSON_TEXT)]
)
def test_each_format_reads_the_same_document(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    container = Container.from_file(path, plugin_manager=make_pm(), environ=ENV)
    assert container.source == str(path)
    assert container.paths() == [
        "runtime",
        "model_clients.gpt",
        "cache_stores.mem",
        "tools.add",
        "agents.writer",
        "agents.critic",
        "agents.notes",
        "team",
    ]


def test_yaml_toml_and_json_configs_build_the_same_components(tmp_path: Path) -> None:
    dumps = []
    for name, text in (("a.yaml", YAML_TEXT), ("b.toml", TOML_TEXT), ("c.json", JSON_TEXT)):
        path = tmp_path / name
        path.write_text(text)
        container = Container.from_file(path, plugin_manager=make_pm(), environ=ENV)
        components = container.components()
        dumps.append({path: dump_component(obj) for path, obj in components.items()})
        assert container.dump() == dumps[-1]
    assert dumps[0] == dumps[1] == dumps[2]
    assert len(dumps[0]) == 8
    assert dumps[0]["model_clients.gpt"]["options"]["api_key"] == "${TEST_API_KEY}"
    assert dumps[0]["team"]["options"]["termination"] == {
        "any": [
            {"use": "max_messages", "version": 1, "options": {"max_messages": 8}},
            {"use": "text_mention", "version": 1, "options": {"text": "APPROVE"}},
        ]
    }


@pytest.mark.parametrize("fmt", ["yaml", "toml", "json"])
def test_generated_files_of_each_format_agree_with_the_dict(tmp_path: Path, fmt: str) -> None:
    path = write_config(tmp_path, base_config(), fmt)
    from_file = Container.from_file(path, plugin_manager=make_pm(), environ=ENV).dump()
    from_dict = Container.from_dict(base_config(), plugin_manager=make_pm(), environ=ENV).dump()
    assert from_file == from_dict


def test_empty_file_is_the_default_runtime_alone(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing configured yet\n")
    container = Container.from_file(path, plugin_manager=make_pm())
    assert container.paths() == ["runtime"]
    assert container.dump() == {"runtime": {"use": "local", "version": 1, "options": {}}}


# ------------------------------------------------------------------------------------------ file problems


@pytest.mark.parametrize(
    ("name", "text", "expected", "where"),
    [
        ("bad.yaml", "agents:\n  writer: {use: helper\n", "expected valid YAML", "line 3, column 1"),
        ("bad.yml", "runtime:\n\t use: local\n", "expected valid YAML", "line 2, column 1"),
        ("bad.toml", "[runtime]\nuse = local\n", "expected valid TOML", "line 2, column 7"),
        ("bad.json", '{"runtime": {"use": "local",}}', "expected valid JSON", "line 1, column 29"),
    ],
)
def test_malformed_files_are_config_errors_with_line_and_column(
    tmp_path: Path, name: str, text: str, expected: str, where: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        Container.from_file(path, plugin_manager=make_pm())
    error = info.value
    assert len(error.problems) == 1
    assert str(error).startswith(f"{path}: {where}: {expected}, found a syntax error")
    assert error.__cause__ is not None  # the parser's own exception, for debugging


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("agents:\n  a: {use: note, options: {text: x}}\n  a: {use: note, options: {text: y}}\n", "'a'"),
        ('{"agents": {}, "agents": {}}', "'agents'"),
    ],
)
def test_duplicate_keys_are_errors_not_silent_overwrites(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / ("dup.json" if text.startswith("{") else "dup.yaml")
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        Container.from_file(path, plugin_manager=make_pm())
    assert "expected each key once" in str(info.value)
    assert f"found the key {key} twice" in str(info.value)


def test_yaml_errors_point_at_the_line(tmp_path: Path) -> None:
    path = tmp_path / "salon.yaml"
    path.write_text("agents:\n  writer:\n    use: helper\n    options: {model_client: gtp}\n")
    with pytest.raises(ConfigError) as info:
        Container.from_file(path, plugin_manager=make_pm())
    assert str(info.value) == (
        f"{path}: agents.writer.options.model_client: expected the name of a model client defined under "
        "model_clients (none defined), found 'gtp' (line 4, column 29)"
    )
    assert info.value.problems[0].line == 4


@pytest.mark.parametrize(("name", "found"), [("missing.yaml", "found no such file"), ("salon.ini", "found '.ini'")])
def test_missing_file_and_unknown_format(tmp_path: Path, name: str, found: str) -> None:
    path = tmp_path / name
    if name.endswith(".ini"):
        path.write_text("[x]\n")
    with pytest.raises(ConfigError) as info:
        Container.from_file(path, plugin_manager=make_pm())
    assert str(info.value).startswith(f"{path}: expected ")
    assert found in str(info.value)


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- runtime\n")
    with pytest.raises(ConfigError, match=r"list\.yaml: expected a mapping of sections .* found a list of 1 item"):
        Container.from_file(path, plugin_manager=make_pm())


# ------------------------------------------------------------------------------------------ interpolation


def test_interpolation_whole_embedded_default_and_escape() -> None:
    data = {
        "model_clients": {
            "gpt": {
                "use": "fake",
                "options": {
                    "model": "${MODEL:m-default}",
                    "api_key": "${TEST_API_KEY}",
                    "temperature": "${TEMP}",
                    "headers": {"Authorization": "Bearer ${TEST_API_KEY}", "X-Literal": "$${NOT_A_VAR}"},
                },
            }
        }
    }
    container = Container.from_dict(data, plugin_manager=make_pm(), environ={**ENV, "TEMP": "0.25"})
    client = container.component("model_clients.gpt")
    assert client.model == "m-default"
    assert client.api_key.get_secret_value() == SECRET
    assert client.temperature == 0.25
    assert client.headers == {"Authorization": f"Bearer {SECRET}", "X-Literal": "${NOT_A_VAR}"}
    dumped = dump_component(client)["options"]
    assert dumped == {
        "model": "${MODEL:m-default}",
        "api_key": "${TEST_API_KEY}",
        "temperature": "${TEMP}",
        "headers": {"Authorization": "Bearer ${TEST_API_KEY}", "X-Literal": "$${NOT_A_VAR}"},
    }
    assert SECRET not in json.dumps(container.dump())


def test_environment_values_never_change_the_document_structure() -> None:
    data = {"agents": {"n": {"use": "note", "options": {"text": "${TEXT}"}}}}
    tricky = '"}, "agents": {"evil": 1}, "x": {"'
    container = Container.from_dict(data, plugin_manager=make_pm(), environ={"TEXT": tricky})
    assert container.component("agents.n").text == tricky
    assert container.paths() == ["runtime", "agents.n"]


@pytest.mark.parametrize(
    ("value", "expected", "found"),
    [
        ("${NOPE}", "expected environment variable NOPE to be set (or a default, as in ${NOPE:default})", "NOPE unset"),
        ("${1BAD}", "expected ${NAME} or ${NAME:default}", "'${1BAD}'"),
        ("abc ${OPEN", "expected ${NAME} or ${NAME:default}", "an unterminated '${'"),
        ("${A:${B}}", "expected ${NAME} or ${NAME:default}", "'${A:${B}'"),
    ],
)
def test_interpolation_problems(value: str, expected: str, found: str) -> None:
    data = {"agents": {"n": {"use": "note", "options": {"text": value}}}}
    with pytest.raises(ConfigError) as info:
        Container.from_dict(data, source="s.yaml", plugin_manager=make_pm(), environ={})
    assert len(info.value.problems) == 1
    assert str(info.value).startswith(f"s.yaml: agents.n.options.text: {expected}")
    assert f"found {found}" in str(info.value)


def test_secrets_never_appear_in_errors_repr_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    data = base_config()
    data["model_clients"]["gpt"]["options"]["temperature"] = "${TEST_API_KEY}"  # wrong type, from the environment
    data["agents"]["notes"]["options"]["text"] = ["${TEST_API_KEY}"]  # wrong type, holding a secret
    with pytest.raises(ConfigError) as info:
        Container.from_dict(data, source="s.yaml", plugin_manager=make_pm(), environ=ENV)
    error = info.value
    assert len(error.problems) == 2
    assert "found '${TEST_API_KEY}'" in str(error)
    for text in (str(error), repr(error), *(str(p) for p in error.problems), repr(error.problems)):
        assert SECRET not in text
    cause: BaseException | None = error
    while cause is not None:  # the chained library errors held the secret: they are dropped, not shown
        assert SECRET not in str(cause)
        cause = cause.__cause__
    container = Container.from_dict(base_config(), plugin_manager=make_pm(), environ=ENV)
    container.components()
    assert SECRET not in repr(container)
    assert SECRET not in repr(container.dump())
    assert SECRET not in caplog.text


def test_a_secret_in_a_factory_error_is_redacted() -> None:
    class LeakyPlugin:
        @hookimpl
        def register_agents(self, register: Any) -> None:
            def leaky(text: str) -> Any:
                raise ValueError(f"cannot use key {text}")

            register("leaky", leaky, options=NoteOptions)

    pm = make_pm()
    pm.add_plugin(LeakyPlugin(), "leaky")
    data = {"agents": {"n": {"use": "leaky", "options": {"text": "${TEST_API_KEY}"}}}}
    container = Container.from_dict(data, source="s.yaml", plugin_manager=pm, environ=ENV)
    with pytest.raises(ConfigError) as info:
        container.component("agents.n")
    assert str(info.value) == (
        "s.yaml: agents.n: expected options that agent 'leaky' can be built from, "
        "found an error: ValueError: cannot use key ${TEST_API_KEY}"
    )
    assert info.value.__cause__ is None


# ---------------------------------------------------------------------------------------------- plugins


def test_plugins_list_must_name_loaded_plugins() -> None:
    data = {"plugins": ["testplug", "testplgu"]}
    with pytest.raises(ConfigError) as info:
        Container.from_dict(data, source="s.yaml", plugin_manager=make_pm())
    message = str(info.value)
    assert message.startswith("s.yaml: plugins[1]: expected the name of an installed plugin (one of: ")
    assert "found 'testplgu'. Did you mean 'testplug'?" in message


def test_plugins_mapping_with_unknown_key() -> None:
    with pytest.raises(
        ConfigError, match=r"s\.yaml: plugins\.lcoal: expected one of the keys load, local, found 'lcoal'"
    ):
        Container.from_dict({"plugins": {"lcoal": []}}, source="s.yaml", plugin_manager=make_pm())


def _write_local_plugin(directory: Path, name: str = "my_tools.py", body: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(
        textwrap.dedent(
            """\
            from salon.hookspecs import hookimpl
            from helper_module import GREETING  # a sibling module: the file's directory is on sys.path


            class Greeter:
                def __init__(self, greeting: str = GREETING) -> None:
                    self.greeting = greeting


            @hookimpl
            def register_tools(register):
                register("greeter", Greeter, description="A tool from the user's own project.")
            """
        )
        + body
    )
    (directory / "helper_module.py").write_text("GREETING = 'hello'\n")
    return path


def test_local_plugin_files_are_loaded_relative_to_the_config(tmp_path: Path) -> None:
    _write_local_plugin(tmp_path / "project" / "plugins")
    config = tmp_path / "project" / "salon.yaml"
    config.write_text("plugins: {local: [./plugins/my_tools.py]}\ntools:\n  hi: {use: greeter}\n")
    pm = make_pm()
    container = Container.from_file(config, plugin_manager=pm)
    assert container.component("tools.hi").greeting == "hello"
    record = next(r for r in pm.records if r.name.startswith("local:"))
    assert record.name == "local:plugins/my_tools.py"
    assert record.error is None
    # the same file for a second config on the same plugin manager is not loaded twice
    Container.from_file(config, plugin_manager=pm)
    assert [r.name for r in pm.records].count("local:plugins/my_tools.py") == 1


def test_local_plugins_can_be_refused(tmp_path: Path) -> None:
    _write_local_plugin(tmp_path, body="open(__file__ + '.ran', 'w').close()\n")
    config = tmp_path / "salon.yaml"
    config.write_text("plugins: {local: [my_tools.py]}\n")
    with pytest.raises(ConfigError) as info:
        Container.from_file(config, plugin_manager=make_pm(), allow_local_plugins=False)
    assert str(info.value) == (
        f"{config}: plugins.local: expected no local plugin files (local plugins are disabled here, "
        "e.g. by --no-local-plugins), found 1 listed: 'my_tools.py' (line 1, column 18)"
    )
    assert not (tmp_path / "my_tools.py.ran").exists()  # the file was never executed


@pytest.mark.parametrize(
    ("entry", "found"),
    [
        ("my_pkg.tools", "found 'my_pkg.tools'"),
        ("./absent.py", "found './absent.py' (no such file)"),
        ("/etc/passwd.py", "found '/etc/passwd.py'"),
    ],
)
def test_local_plugins_must_be_relative_python_files(tmp_path: Path, entry: str, found: str) -> None:
    with pytest.raises(ConfigError) as info:
        Container.from_dict(
            {"plugins": {"local": [entry]}}, source="s.yaml", base_dir=tmp_path, plugin_manager=make_pm()
        )
    assert str(info.value).startswith("s.yaml: plugins.local[0]: expected ")
    assert found in str(info.value)


def test_a_local_plugin_that_fails_to_import_is_one_config_error(tmp_path: Path) -> None:
    _write_local_plugin(tmp_path, "broken.py", "raise RuntimeError('boom')\n")
    with pytest.raises(ConfigError) as info:
        Container.from_dict(
            {"plugins": {"local": ["broken.py"]}}, source="s.yaml", base_dir=tmp_path, plugin_manager=make_pm()
        )
    assert str(info.value) == (
        "s.yaml: plugins.local[0]: expected a plugin file that imports without error, found RuntimeError: boom"
    )
    assert isinstance(info.value.__cause__, RuntimeError)


def test_unknown_top_level_key() -> None:
    with pytest.raises(ConfigError) as info:
        Container.from_dict({"agent": {}}, source="s.yaml", plugin_manager=make_pm())
    assert str(info.value).startswith("s.yaml: agent: expected one of the sections plugins, runtime, model_clients")
    assert str(info.value).endswith("found 'agent'. Did you mean 'agents'?")


def test_from_dict_does_not_change_the_callers_data() -> None:
    data = base_config()
    before = json.dumps(data, sort_keys=True)
    Container.from_dict(data, plugin_manager=make_pm(), environ=ENV).components()
    assert json.dumps(data, sort_keys=True) == before


def test_yaml_aliases_that_expand_without_bound_are_refused(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for level in range(1, 7):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 10)}]")
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=r"laughs\.yaml: expected a document of at most 100,000 values, found "):
        Container.from_file(path, plugin_manager=make_pm())
    recursive = tmp_path / "recursive.yaml"
    recursive.write_text("agents: &a {x: *a}\n")
    with pytest.raises(ConfigError, match="found a recursive alias"):
        Container.from_file(recursive, plugin_manager=make_pm())


def test_yaml_anchors_and_merge_keys_work(tmp_path: Path) -> None:
    path = tmp_path / "anchors.yaml"
    path.write_text(
        "agents:\n  a: &note {use: note, options: {text: shared}}\n  b: *note\n  c: {<<: *note, options: {text: own}}\n"
    )
    container = Container.from_file(path, plugin_manager=make_pm())
    assert [container.component(f"agents.{k}").text for k in "abc"] == ["shared", "shared", "own"]


@pytest.mark.parametrize(("name", "depth"), [("deep.json", 100_000), ("deep.yaml", 100_000), ("nested.json", 200)])
def test_absurdly_nested_documents_are_config_errors(tmp_path: Path, name: str, depth: int) -> None:
    path = tmp_path / name
    path.write_text('{"agents": ' + "[" * depth + "]" * depth + "}")
    with pytest.raises(ConfigError) as info:
        Container.from_file(path, plugin_manager=make_pm())
    assert "nested" in info.value.expected


def test_every_section_holds_a_registered_component_kind() -> None:
    from salon._component_registry import COMPONENT_KINDS
    from salon._config import TOP_LEVEL_KEYS
    from salon._config_refs import SECTION_KINDS, SINGLE_SECTIONS

    assert set(SECTION_KINDS.values()) | set(SINGLE_SECTIONS.values()) <= set(COMPONENT_KINDS)
    assert set(TOP_LEVEL_KEYS) == {"plugins", *SECTION_KINDS, *SINGLE_SECTIONS}
