"""Config errors, hand-written and generated: one ConfigError per mistake, naming file, path, expected, found."""

from __future__ import annotations

import copy
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_config_support import ENV, SECRET, base_config, make_pm, write_config

from salon._config_errors import ConfigError, ConfigProblem
from salon._container import Container


def _error(data: dict[str, Any], environ: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        Container.from_dict(
            data, source="salon.yaml", plugin_manager=make_pm(), environ=ENV if environ is None else environ
        )
    assert len(info.value.problems) == 1, str(info.value)
    return info.value


def _mutated(mutate: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = base_config()
    mutate(data)
    return data


# ---------------------------------------------------------------------------------------------- hand-written


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["agents"]["writer"]["options"].update(model_client="gtp"),
            "salon.yaml: agents.writer.options.model_client: expected the name of a model client defined under "
            "model_clients (one of: gpt), found 'gtp'. Did you mean 'gpt'?",
        ),
        (
            lambda d: d["agents"]["writer"].update(use="helpr"),
            "salon.yaml: agents.writer.use: expected the name of an installed agent (one of: helper, note), "
            "found 'helpr'. Did you mean 'helper'?",
        ),
        (
            lambda d: d["model_clients"]["gpt"].update(use="openai"),
            "salon.yaml: model_clients.gpt.use: expected the name of an installed model client (one of: fake, replay), "
            "found 'openai'. Install the plugin that provides 'openai' (`salon plugins` lists what is installed, and "
            "`plugins:` in the config selects which load)",
        ),
        (
            lambda d: d["model_clients"]["gpt"]["options"].update(temprature=1),
            "salon.yaml: model_clients.gpt.options.temprature: expected one of the options of model client 'fake' "
            "(api_key, headers, model, temperature), found the unknown option 'temprature'. "
            "Did you mean 'temperature'?",
        ),
        (
            lambda d: d["tools"]["add"]["options"].update(ofset=1),  # the model ignores extras; the config does not
            "salon.yaml: tools.add.options.ofset: expected one of the options of tool 'adder' (offset), "
            "found the unknown option 'ofset'. Did you mean 'offset'?",
        ),
        (
            lambda d: d["model_clients"]["gpt"]["options"].update(temperature="hot"),
            "salon.yaml: model_clients.gpt.options.temperature: expected a valid number, unable to parse string "
            "as a number, found 'hot'",
        ),
        (
            lambda d: d["model_clients"]["gpt"]["options"].pop("model"),
            "salon.yaml: model_clients.gpt.options.model: expected a value for this required option, found nothing",
        ),
        (
            lambda d: d["agents"]["critic"]["options"].update(peers=["critic"]),
            "salon.yaml: agents.critic.options.peers[0]: expected references that never lead back to agents.critic "
            "(components are built before their users), found agents.critic referring to itself",
        ),
        (
            lambda d: d["agents"]["writer"]["options"].update(peers=["critic"]),
            "salon.yaml: agents.writer.options.peers[0]: expected references that never lead back to agents.writer "
            "(components are built before their users), found the cycle agents.writer -> agents.critic -> "
            "agents.writer",
        ),
        (
            lambda d: d["team"]["options"].update(participants=["writer", "ghost"]),
            "salon.yaml: team.options.participants[1]: expected the name of an agent defined under agents "
            "(one of: critic, notes, writer), found 'ghost'",
        ),
        (
            lambda d: d["team"]["options"]["termination"]["any"][1].update(use="text_mentoin"),
            "salon.yaml: team.options.termination.any[1].use: expected the name of an installed termination "
            "condition (one of: max_messages, text_mention), found 'text_mentoin'. Did you mean 'text_mention'?",
        ),
        (
            lambda d: d["team"]["options"]["termination"]["any"][0]["options"].update(max_messages="eight"),
            "salon.yaml: team.options.termination.any[0].options.max_messages: expected a valid integer, unable to "
            "parse string as an integer, found 'eight'",
        ),
        (
            lambda d: d["team"]["options"].update(termination={"any": []}),
            "salon.yaml: team.options.termination.any: expected a non-empty list of inline termination conditions, "
            "found a list of 0 items",
        ),
        (
            lambda d: d["team"]["options"].update(termination={"any": [], "all": []}),
            "salon.yaml: team.options.termination: expected exactly one key: any:, all:, or use: with options:, "
            "found the keys any, all",
        ),
        (
            lambda d: d["team"]["options"].update(termination="max_messages"),
            "salon.yaml: team.options.termination: expected an inline termination condition: {use, options}, or "
            "{any: [...]} / {all: [...]}, found 'max_messages'",
        ),
        (
            lambda d: d["model_clients"]["gpt"].update(cache="disk"),
            "salon.yaml: model_clients.gpt.cache: expected the name of a cache store defined under cache_stores "
            "(one of: mem), found 'disk'",
        ),
        (
            lambda d: d["model_clients"]["gpt"].update(provider="autogen_ext.models.openai.OpenAIChatCompletionClient"),
            "salon.yaml: model_clients.gpt.provider: expected one of the keys use, options, version, cache, found "
            "'provider'. Salon names components by their registered name in use:, never by an import path",
        ),
        (
            lambda d: d["agents"]["notes"].pop("use"),
            "salon.yaml: agents.notes: expected use: naming an installed agent (one of: helper, note), "
            "found no use: key",
        ),
        (
            lambda d: d["agents"].update(notes="note"),
            "salon.yaml: agents.notes: expected an agent: a mapping with use: and options:, found 'note'",
        ),
        (
            lambda d: d["agents"]["notes"].update(version=3),
            "salon.yaml: agents.notes.version: expected version 1 (the options version of agent 'note'), found 3",
        ),
        (
            lambda d: d["agents"]["notes"].update(options=["text"]),
            "salon.yaml: agents.notes.options: expected the options of agent 'note' as a mapping, found a list of "
            "1 item",
        ),
        (
            lambda d: d["cache_stores"]["mem"].update(options={"size": 3}),
            "salon.yaml: cache_stores.mem.options.size: expected one of the options of cache store 'memory' (none), "
            "found the unknown option 'size'",
        ),
        (
            lambda d: d.update(runtime={"use": "local", "options": {"ignore_unhandled_exceptions": "perhaps"}}),
            "salon.yaml: runtime.options.ignore_unhandled_exceptions: expected a valid boolean, unable to interpret "
            "input, found 'perhaps'",
        ),
        (
            lambda d: d["agents"].update({"a.b": {"use": "note", "options": {"text": "x"}}}),
            "salon.yaml: agents['a.b']: expected a name made of letters, digits, '_' and '-' (no dots: names are "
            "parts of paths), found 'a.b'",
        ),
        (
            lambda d: d.update(tools=["add"]),
            "salon.yaml: tools: expected a mapping of tool names to {use, options}, found a list of 1 item",
        ),
    ],
)
def test_hand_written_mistakes(mutate: Callable[[dict[str, Any]], None], message: str) -> None:
    error = _error(_mutated(mutate))
    assert str(error) == message


def test_a_missing_environment_variable() -> None:
    error = _error(base_config(), environ={})
    assert str(error) == (
        "salon.yaml: model_clients.gpt.options.api_key: expected environment variable TEST_API_KEY to be set "
        "(or a default, as in ${TEST_API_KEY:default}), found TEST_API_KEY unset"
    )
    assert (error.source, error.path, error.found) == (
        "salon.yaml",
        "model_clients.gpt.options.api_key",
        "TEST_API_KEY unset",
    )


def test_independent_mistakes_are_reported_together_once_each() -> None:
    data = base_config()
    data["agents"]["writer"]["options"]["model_client"] = "gtp"
    data["tools"]["add"]["options"]["offset"] = "two"
    with pytest.raises(ConfigError) as info:
        Container.from_dict(data, source="salon.yaml", plugin_manager=make_pm(), environ=ENV)
    assert [p.path for p in info.value.problems] == ["tools.add.options.offset", "agents.writer.options.model_client"]
    assert str(info.value).count("\n") == 1


def test_union_errors_are_merged_into_one_problem() -> None:
    data = {"team": {"use": "round_robin", "options": {"participants": [], "seeds": "many"}}}
    error = _error(data)
    assert error.path == "team.options.seeds"  # pydantic says team.options.seeds.int and ...seeds.list[int]
    assert error.expected == "a valid integer, unable to parse string as an integer or a valid list"


def test_a_config_error_is_a_value_error_with_problems() -> None:
    problem = ConfigProblem("f.yaml", "a.b", "x", "y", hint="Do z", line=3, column=4)
    error = ConfigError(problem)
    assert isinstance(error, ValueError)
    assert str(error) == "f.yaml: a.b: expected x, found y (line 3, column 4). Do z"
    with pytest.raises(ValueError, match="at least one"):
        ConfigError([])
    import pickle

    copied = pickle.loads(pickle.dumps(error))
    assert copied.problems == error.problems and str(copied) == str(error)


# ---------------------------------------------------------------------------------------------- generated


@dataclass(frozen=True)
class Mutation:
    """A mistake made in a valid config, and where the one error about it must point."""

    kind: str
    path: str
    apply: Callable[[dict[str, Any]], None]
    found: str = ""
    environ: dict[str, str] | None = None


def _set(*path: str | int, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(data: dict[str, Any]) -> None:
        target: Any = data
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return apply


_COMPONENTS = [
    ("model_clients", "gpt"),
    ("tools", "add"),
    ("agents", "writer"),
    ("agents", "critic"),
    ("agents", "notes"),
    ("cache_stores", "mem"),
]
_WRONG_TYPES = [
    (("model_clients", "gpt", "options", "temperature"), "warm"),
    (("model_clients", "gpt", "options", "headers"), ["x"]),
    (("model_clients", "gpt", "options", "temperature"), "${TEST_API_KEY}"),  # wrong type, value from the environment
    (("tools", "add", "options", "offset"), {"n": 1}),
    (("agents", "notes", "options", "text"), ["${TEST_API_KEY}"]),
    (("agents", "writer", "options", "system_message"), 3),
    (("team", "options", "termination", "any", 0, "options", "max_messages"), "lots"),
    (("runtime", "options", "ignore_unhandled_exceptions"), "perhaps"),
]
_REFERENCES = [
    ("agents", "writer", "options", "model_client"),
    ("agents", "writer", "options", "tools", 0),
    ("agents", "critic", "options", "peers", 0),
    ("team", "options", "participants", 1),
]


def _path(parts: tuple[str | int, ...]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@st.composite
def mutations(draw: st.DrawFn) -> Mutation:
    kind = draw(st.sampled_from(["unknown use", "unknown option", "wrong type", "dangling", "cycle", "missing env"]))
    word = draw(st.from_regex(r"[a-z][a-z0-9_]{2,12}", fullmatch=True))
    if kind == "unknown use":
        section, name = draw(st.sampled_from(_COMPONENTS))
        use = f"zz_{word}"
        return Mutation(kind, f"{section}.{name}.use", _set(section, name, "use", value=use), repr(use))
    if kind == "unknown option":
        section, name = draw(st.sampled_from(_COMPONENTS))
        option = f"zz_{word}"

        def add_option(data: dict[str, Any]) -> None:
            data[section][name].setdefault("options", {})[option] = 1

        return Mutation(kind, f"{section}.{name}.options.{option}", add_option, f"the unknown option {option!r}")
    if kind == "wrong type":
        parts, value = draw(st.sampled_from(_WRONG_TYPES))
        return Mutation(kind, _path(parts), _set(*parts, value=value))
    if kind == "dangling":
        parts = draw(st.sampled_from(_REFERENCES))
        return Mutation(kind, _path(parts), _set(*parts, value=f"zz_{word}"), repr(f"zz_{word}"))
    if kind == "cycle":
        return Mutation(
            kind, "agents.writer.options.peers[0]", _set("agents", "writer", "options", "peers", value=["critic"])
        )
    variable = f"ZZ_{word.upper()}"
    parts = draw(st.sampled_from([p for p, v in _WRONG_TYPES if isinstance(v, str) and "options" in p]))
    text = "${" + variable + "}" if draw(st.booleans()) else "prefix ${" + variable + "} suffix"
    return Mutation(kind, _path(parts), _set(*parts, value=text), f"{variable} unset")


_CORRUPTIONS = {
    "yaml": ["agents: [unclosed\n", "runtime:\n\t- tab\n", "a: b: c\n", "key: 'open\n"],
    "toml": ["[agents\n", "runtime = \n", "x = 'open\n", "[a]\n[a]\n"],
    "json": ["{", '{"a": }', "[1, 2", '{"a": 1,}'],
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fmt=st.sampled_from(["yaml", "toml", "json"]),
    mutation=mutations(),
    secret=st.from_regex(r"sk-[A-Za-z0-9]{16,32}", fullmatch=True),
)
def test_every_generated_mistake_is_one_config_error(fmt: str, mutation: Mutation, secret: str) -> None:
    data = copy.deepcopy(base_config())
    mutation.apply(data)
    with tempfile.TemporaryDirectory() as directory:
        path = write_config(Path(directory), data, fmt)
        with pytest.raises(ConfigError) as info:
            Container.from_file(path, plugin_manager=make_pm(), environ={"TEST_API_KEY": secret})
    error = info.value
    assert len(error.problems) == 1, str(error)
    problem = error.problems[0]
    assert problem.source == str(path)
    assert problem.path == mutation.path, str(error)
    assert problem.expected and problem.found
    message = str(error)
    assert message.startswith(f"{path}: {mutation.path}: expected {problem.expected}, found {problem.found}")
    if mutation.found:
        assert problem.found.startswith(mutation.found), message
    assert secret not in message and secret not in repr(error)
    assert SECRET not in message


@settings(max_examples=60, deadline=None)
@given(fmt=st.sampled_from(["yaml", "toml", "json"]), data=st.data())
def test_every_malformed_file_is_one_config_error(fmt: str, data: st.DataObject) -> None:
    corruption = data.draw(st.sampled_from(_CORRUPTIONS[fmt]))
    with tempfile.TemporaryDirectory() as directory:
        valid = write_config(Path(directory), base_config(), fmt).read_text()
        where = data.draw(st.sampled_from(["start", "end"]))
        text = corruption + valid if where == "start" and fmt != "json" else valid + corruption
        if fmt == "json" and where == "start":
            text = corruption
        path = Path(directory) / f"broken.{fmt}"
        path.write_text(text)
        with pytest.raises(ConfigError) as info:
            Container.from_file(path, plugin_manager=make_pm(), environ=ENV)
    error = info.value
    assert len(error.problems) == 1
    label = {"yaml": "YAML", "toml": "TOML", "json": "JSON"}[fmt]
    assert error.source == str(path)
    assert error.expected in (f"valid {label}", "each key once", "each key once in every object"), str(error)
    assert error.found
    assert str(error).startswith(f"{path}: ")


@settings(max_examples=100, deadline=None)
@given(
    document=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
        max_leaves=12,
    )
)
def test_arbitrary_documents_give_config_errors_or_containers(document: Any) -> None:
    """Whatever a file holds, checking it raises ConfigError or succeeds, never another exception."""
    data = {"agents": document} if isinstance(document, dict) else document
    problems: tuple[ConfigProblem, ...] = ()
    try:
        Container.from_dict(data, plugin_manager=make_pm())
    except ConfigError as error:
        problems = error.problems
    assert all(p.expected and p.found for p in problems)


def test_the_json_written_by_the_generator_is_the_base_config(tmp_path: Path) -> None:
    assert json.loads(write_config(tmp_path, base_config(), "json").read_text()) == base_config()
