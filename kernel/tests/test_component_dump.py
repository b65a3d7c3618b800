"""dump_component / load_component: {use, version, options}, names not import paths, secrets never written."""

from __future__ import annotations

import json
import sys
from typing import Any, ClassVar

import pytest
from pydantic import SecretStr
from test_config_support import ENV, SECRET, Adder, Condition, FakeClient, HelperAgent, base_config, make_pm

from salon._component_dump import dump_component, load_component
from salon._config_errors import ConfigError
from salon._container import Container


def _container() -> Container:
    return Container.from_dict(base_config(), plugin_manager=make_pm(), environ=ENV)


def test_dump_of_every_configured_component() -> None:
    dumped = _container().dump()
    assert dumped["agents.writer"] == {
        "use": "helper",
        "version": 1,
        "options": {"model_client": "gpt", "system_message": "W", "tools": ["add"]},  # references as names
    }
    assert dumped["model_clients.gpt"] == {
        "use": "fake",
        "version": 1,
        "options": {"model": "m-1", "api_key": "${TEST_API_KEY}", "temperature": 0.5},  # the secret as a placeholder
    }
    assert dumped["runtime"] == {"use": "local", "version": 1, "options": {"ignore_unhandled_exceptions": True}}
    assert SECRET not in json.dumps(dumped)


def test_a_dump_loads_back_into_an_equal_component() -> None:
    container = _container()
    for path, kind in [
        ("model_clients.gpt", "model_client"),
        ("tools.add", "tool"),
        ("cache_stores.mem", "cache_store"),
    ]:
        original = container.component(path)
        loaded = load_component(dump_component(original), kind=kind, plugin_manager=make_pm(), environ=ENV)
        assert type(loaded) is type(original)
        assert dump_component(loaded) == dump_component(original)
    client = load_component(
        dump_component(container.component("model_clients.gpt")),
        kind="model_client",
        environ=ENV,
        plugin_manager=make_pm(),
    )
    assert client.api_key.get_secret_value() == SECRET  # read again from the environment


def test_references_load_against_a_container() -> None:
    container = _container()
    data = dump_component(container.component("agents.critic"))
    agent = load_component(data, kind="agent", container=container)
    assert isinstance(agent, HelperAgent)
    assert agent.model_client is container.component("model_clients.gpt")
    assert agent.peers == [container.component("agents.writer")]
    assert dump_component(agent) == data


def test_references_without_a_container_are_a_config_error() -> None:
    data = {"use": "helper", "options": {"model_client": "gpt"}}
    with pytest.raises(ConfigError) as info:
        load_component(data, kind="agent", plugin_manager=make_pm(), source="agent.json")
    assert str(info.value) == (
        "agent.json: options.model_client: expected a container that defines a model client named 'gpt' "
        "(load_component(..., container=...)), found 'gpt'"
    )


def test_inline_combinations_dump_and_load() -> None:
    container = _container()
    termination = container.component("team").termination
    dumped = dump_component(termination)
    assert dumped == {
        "any": [
            {"use": "max_messages", "version": 1, "options": {"max_messages": 8}},
            {"use": "text_mention", "version": 1, "options": {"text": "APPROVE"}},
        ]
    }
    loaded = load_component(dumped, kind="termination_condition", plugin_manager=make_pm())
    assert isinstance(loaded, Condition)
    assert loaded.label == termination.label == "(max8 | text:APPROVE)"
    assert dump_component(loaded) == dumped


def test_loading_never_imports_what_the_data_names() -> None:
    autogen_style = {
        "provider": "os.system",
        "component_type": "model",
        "config": {"command": "echo pwned"},
    }
    modules_before = set(sys.modules)
    with pytest.raises(ConfigError) as info:
        load_component(autogen_style, kind="model_client", plugin_manager=make_pm())
    assert set(sys.modules) == modules_before
    assert "never by an import path" in str(info.value)
    with pytest.raises(ConfigError, match=r"expected the name of an installed model client \(one of: fake, replay\)"):
        load_component({"use": "json.loads"}, kind="model_client", plugin_manager=make_pm())


def test_a_masked_secret_is_refused_when_loading() -> None:
    client = FakeClient("m", SecretStr("literal-secret"), 0.0, {})
    pm = make_pm()
    built = load_component(
        {"use": "fake", "options": {"model": "m", "api_key": "literal-secret"}}, kind="model_client", plugin_manager=pm
    )
    dumped = dump_component(built)
    assert dumped["options"]["api_key"] == "**********"  # never the value
    with pytest.raises(ConfigError) as info:
        load_component(dumped, kind="model_client", plugin_manager=pm)
    assert info.value.path == "options.api_key"
    assert "the mask '**********'" in info.value.found
    assert client.api_key is not None


def test_literal_dollar_braces_survive_a_round_trip() -> None:
    pm = make_pm()
    note = load_component({"use": "note", "options": {"text": "cost: $${PRICE}"}}, kind="agent", plugin_manager=pm)
    assert note.text == "cost: ${PRICE}"
    again = load_component(dump_component(note), kind="agent", plugin_manager=pm, environ={})
    assert again.text == "cost: ${PRICE}"


class SelfDescribing:
    """A component built in Python that can still be dumped."""

    _salon_component_: ClassVar[tuple[str, str]] = ("tool", "adder")

    def __init__(self, offset: int) -> None:
        self.offset = offset
        self.secret = SecretStr("hidden")

    def dump_options(self) -> dict[str, Any]:
        return {"offset": self.offset}


def test_objects_that_describe_themselves_dump_and_load() -> None:
    dumped = dump_component(SelfDescribing(5))
    assert dumped == {"use": "adder", "version": 1, "options": {"offset": 5}}
    loaded = load_component(dumped, kind="tool", plugin_manager=make_pm())
    assert isinstance(loaded, Adder) and loaded.offset == 5


def test_self_described_secrets_are_masked() -> None:
    class WithSecret(SelfDescribing):
        def dump_options(self) -> dict[str, Any]:
            return {"offset": self.offset, "token": self.secret, "note": "${x}"}

    assert dump_component(WithSecret(1))["options"] == {"offset": 1, "token": "**********", "note": "$${x}"}


def test_objects_that_were_not_built_from_config_cannot_be_dumped() -> None:
    with pytest.raises(TypeError, match="was not built from config"):
        dump_component(Adder(1))


def test_load_component_checks_its_kind_and_interpolates() -> None:
    with pytest.raises(ValueError, match="Unknown component kind 'widget'"):
        load_component({"use": "x"}, kind="widget", plugin_manager=make_pm())
    with pytest.raises(ConfigError, match=r"<data>: options\.text: expected environment variable NOPE to be set"):
        load_component(
            {"use": "note", "options": {"text": "${NOPE}"}}, kind="agent", plugin_manager=make_pm(), environ={}
        )


def test_a_load_component_dump_of_a_container_component_is_stable_across_builds() -> None:
    first = _container().dump()
    second = _container().dump()
    assert first == second
