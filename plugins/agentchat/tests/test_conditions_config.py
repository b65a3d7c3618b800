"""Termination conditions in config files: their registered names, options, and any/all combinations."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from salon import ConfigError, PluginManager, load_component
from salon.hookspecs import Register, hookimpl
from salon.testing import check_found_through_entry_point, check_plugin_stays_light
from salon_agentchat import _register_conditions, conditions
from salon_agentchat.base import AndTerminationCondition, OrTerminationCondition, TerminationCondition
from salon_agentchat.messages import TextMessage

NAMES: dict[str, type[TerminationCondition]] = {
    "max_messages": conditions.MaxMessageTermination,
    "text_mention": conditions.TextMentionTermination,
    "stop_message": conditions.StopMessageTermination,
    "token_usage": conditions.TokenUsageTermination,
    "handoff": conditions.HandoffTermination,
    "timeout": conditions.TimeoutTermination,
    "external": conditions.ExternalTermination,
    "source_match": conditions.SourceMatchTermination,
    "text_message": conditions.TextMessageTermination,
    "function_call": conditions.FunctionCallTermination,
}


class ConditionsOnly:
    """The conditions' registration alone, so these tests do not depend on the agents' registrations."""

    @hookimpl
    def register_termination_conditions(self, register: Register) -> None:
        _register_conditions.register_conditions(register)


def plugin_manager() -> PluginManager:
    pm = PluginManager(entry_points_enabled=False, strict=True)
    pm.add_plugin(ConditionsOnly(), "agentchat", distribution="salon-agentchat", version="0.1.0")
    return pm


def test_every_configurable_condition_is_registered() -> None:
    registry = plugin_manager().registry
    assert sorted(registry.names("termination_condition")) == sorted(NAMES)
    for name, cls in NAMES.items():
        spec = registry.get("termination_condition", name)
        assert spec.description.startswith(cls.__name__ + ":")
        assert spec.distribution == "salon-agentchat"


@pytest.mark.parametrize("name", sorted(NAMES))
def test_option_fields_are_the_constructor_arguments(name: str) -> None:
    spec = plugin_manager().registry.get("termination_condition", name)
    parameters = set(inspect.signature(NAMES[name]).parameters)
    assert set(spec.options_model.model_fields) == parameters


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"use": "max_messages", "options": {"max_messages": 4}}, "MaxMessageTermination(max_messages=4)"),
        (
            {"use": "text_mention", "options": {"text": "APPROVE", "sources": ["critic"]}},
            "TextMentionTermination(text='APPROVE', sources=['critic'])",
        ),
        ({"use": "stop_message"}, "StopMessageTermination()"),
        (
            {"use": "token_usage", "options": {"max_prompt_token": 9}},
            "TokenUsageTermination(max_prompt_token=9)",
        ),
        ({"use": "handoff", "options": {"target": "user"}}, "HandoffTermination(target='user')"),
        ({"use": "timeout", "options": {"timeout_seconds": 2.5}}, "TimeoutTermination(timeout_seconds=2.5)"),
        ({"use": "external"}, "ExternalTermination()"),
        ({"use": "source_match", "options": {"sources": ["a"]}}, "SourceMatchTermination(sources=['a'])"),
        ({"use": "text_message", "options": {"source": "bob"}}, "TextMessageTermination(source='bob')"),
        ({"use": "function_call", "options": {"function_name": "f"}}, "FunctionCallTermination(function_name='f')"),
    ],
)
def test_load_component_builds_each_condition(data: dict[str, Any], expected: str) -> None:
    condition = load_component(data, kind="termination_condition", plugin_manager=plugin_manager())
    assert isinstance(condition, NAMES[data["use"]])
    assert repr(condition) == expected


async def test_any_and_all_combine_with_or_and_and() -> None:
    data = {
        "any": [
            {"use": "max_messages", "options": {"max_messages": 8}},
            {
                "all": [
                    {"use": "text_mention", "options": {"text": "APPROVE"}},
                    {"use": "source_match", "options": {"sources": ["critic"]}},
                ]
            },
        ]
    }
    condition = load_component(data, kind="termination_condition", plugin_manager=plugin_manager())
    assert isinstance(condition, OrTerminationCondition)
    assert isinstance(condition.conditions[1], AndTerminationCondition)
    assert repr(condition) == (
        "MaxMessageTermination(max_messages=8) | "
        "(TextMentionTermination(text='APPROVE') & SourceMatchTermination(sources=['critic']))"
    )
    assert await condition([TextMessage(content="APPROVE", source="writer")]) is None
    stop = await condition([TextMessage(content="fine", source="critic")])
    assert stop is not None and stop.source == "TextMentionTermination, SourceMatchTermination"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"use": "max_messages", "options": {"max_messages": 0}}, "max_messages"),
        ({"use": "max_messages", "options": {"max_message": 3}}, "max_message"),
        ({"use": "token_usage", "options": {}}, "at least one of max_total_token"),
        ({"use": "text_mention", "options": {"text": ""}}, "text"),
        ({"use": "timeout", "options": {"timeout_seconds": -1}}, "timeout_seconds"),
        ({"use": "functional", "options": {}}, "functional"),
    ],
)
def test_bad_options_are_config_errors(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_component(data, kind="termination_condition", plugin_manager=plugin_manager())


def test_registration_imports_no_condition_module() -> None:
    heavy = ["salon_agentchat.conditions", "salon_agentchat.messages", "salon_agentchat._condition_options"]
    check_plugin_stays_light("salon_agentchat._plugin", "agentchat", heavy=[*heavy, "pydantic"])


def test_found_through_the_installed_entry_point() -> None:
    components = {"termination_condition": sorted(NAMES)}
    check_found_through_entry_point("agentchat", distribution="salon-agentchat", components=components)
    pm = PluginManager(load=["agentchat"], strict=True)
    condition = load_component(
        {"use": "text_mention", "options": {"text": "TERMINATE"}}, kind="termination_condition", plugin_manager=pm
    )
    assert isinstance(condition, conditions.TextMentionTermination)
