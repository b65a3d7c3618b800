"""An in-process test plugin and config fixtures shared by the config, container and dump tests.

Imported by ``test_config*.py``, ``test_container*.py`` and ``test_component_dump.py``; it also checks
itself (the plugin registers what the other tests rely on).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, SecretStr

from salon import MessageContext, RoutedAgent, message_handler
from salon._config_refs import Inline, Ref
from salon._plugin_manager import PluginManager
from salon.hookspecs import hookimpl

SECRET = "sk-test-0123456789abcdef"
ENV = {"TEST_API_KEY": SECRET}


# ---------------------------------------------------------------------------------------------- components


class FakeClientOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    api_key: SecretStr | None = None
    temperature: float = 0.0
    headers: dict[str, str] = {}


class FakeClient:
    def __init__(self, model: str, api_key: SecretStr | None, temperature: float, headers: dict[str, str]) -> None:
        self.model = model
        self.api_key = api_key
        self.temperature = temperature
        self.headers = headers


class AdderOptions(BaseModel):  # extra="ignore" (pydantic's default): unknown options must still be refused
    offset: int = 0


class Adder:
    def __init__(self, offset: int) -> None:
        self.offset = offset


class HelperOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model_client: Annotated[str, Ref("model_client")]
    system_message: str = "You help."
    peers: list[Annotated[str, Ref("agent")]] = []
    tools: list[Annotated[str, Ref("tool")]] = []


class HelperAgent(RoutedAgent):
    """A runtime agent: answers a str with ``"<system_message>: <text>"``."""

    def __init__(self, model_client: Any, system_message: str, peers: list[Any], tools: list[Any]) -> None:
        super().__init__("helps")
        self.model_client = model_client
        self.system_message = system_message
        self.peers = peers
        self.tools = tools

    @message_handler
    async def on_text(self, message: str, ctx: MessageContext) -> str:
        return f"{self.system_message}: {message} ({self.id.type}/{self.id.key})"


class NoteOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str


class Note:
    """Not a runtime agent (like an AgentChat agent): the container must not register it."""

    def __init__(self, text: str) -> None:
        self.text = text


class Condition:
    """A termination condition with the algebra of AgentChat's (``|`` any, ``&`` all)."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __or__(self, other: Condition) -> Condition:
        return Condition(f"({self.label} | {other.label})")

    def __and__(self, other: Condition) -> Condition:
        return Condition(f"({self.label} & {other.label})")


class MaxMessagesOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_messages: int


class TextMentionOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str


class TeamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    participants: list[Annotated[str, Ref("agent")]]
    termination: Annotated[Any, Inline("termination_condition")] = None
    max_turns: int | None = None
    seeds: int | list[int] | None = None


class Team:
    def __init__(self, participants: list[Any], termination: Any, max_turns: int | None, seeds: Any) -> None:
        self.participants = participants
        self.termination = termination
        self.max_turns = max_turns


class ConfigTestPlugin:
    """Registers the components above, like an installed plugin would."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    @hookimpl
    def register_model_clients(self, register: Any) -> None:
        register("fake", FakeClient, options=FakeClientOptions, description="A model client that calls nothing.")

    @hookimpl
    def register_tools(self, register: Any) -> None:
        register("adder", Adder, options=lambda: AdderOptions)

    @hookimpl
    def register_agents(self, register: Any) -> None:
        register("helper", HelperAgent, options=HelperOptions)
        register("note", lambda text: Note(text), options=NoteOptions)

    @hookimpl
    def register_termination_conditions(self, register: Any) -> None:
        register("max_messages", lambda max_messages: Condition(f"max{max_messages}"), options=MaxMessagesOptions)
        register("text_mention", lambda text: Condition(f"text:{text}"), options=TextMentionOptions)

    @hookimpl
    def register_team_strategies(self, register: Any) -> None:
        register("round_robin", Team, options=TeamOptions)

    @hookimpl
    def container_built(self, container: Any) -> None:
        self.events.append(("container_built", container))

    @hookimpl
    def runtime_started(self, runtime: Any) -> None:
        self.events.append(("runtime_started", runtime))

    @hookimpl
    def runtime_stopping(self, runtime: Any) -> None:
        self.events.append(("runtime_stopping", runtime))


def make_pm(plugin: ConfigTestPlugin | None = None) -> PluginManager:
    """A plugin manager with only the built-ins and the test plugin (nothing installed is loaded)."""
    pm = PluginManager(entry_points_enabled=False, strict=True)
    pm.add_plugin(plugin or ConfigTestPlugin(), "testplug")
    return pm


# ------------------------------------------------------------------------------------------------- configs


def base_config() -> dict[str, Any]:
    """A valid config using every feature: references, a cache store, an inline termination algebra, ``${ENV}``."""
    return {
        "plugins": ["testplug"],
        "runtime": {"use": "local", "options": {"ignore_unhandled_exceptions": True}},
        "cache_stores": {"mem": {"use": "memory"}},
        "model_clients": {
            "gpt": {"use": "fake", "options": {"model": "m-1", "api_key": "${TEST_API_KEY}", "temperature": 0.5}}
        },
        "tools": {"add": {"use": "adder", "options": {"offset": 2}}},
        "agents": {
            "writer": {"use": "helper", "options": {"model_client": "gpt", "system_message": "W", "tools": ["add"]}},
            "critic": {"use": "helper", "options": {"model_client": "gpt", "system_message": "C", "peers": ["writer"]}},
            "notes": {"use": "note", "options": {"text": "remember"}},
        },
        "team": {
            "use": "round_robin",
            "options": {
                "participants": ["writer", "critic"],
                "termination": {
                    "any": [
                        {"use": "max_messages", "options": {"max_messages": 8}},
                        {"use": "text_mention", "options": {"text": "APPROVE"}},
                    ]
                },
            },
        },
    }


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def to_toml(data: dict[str, Any]) -> str:
    """A tiny TOML writer (the standard library only reads TOML): tables for top-level mappings."""
    lines = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"\n[{_toml_key(key)}]")
            lines.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
    return "\n".join(lines) + "\n"


def write_config(directory: Path, data: dict[str, Any], fmt: str, name: str = "salon") -> Path:
    """Write ``data`` as a ``fmt`` (``yaml``, ``toml`` or ``json``) file in ``directory``."""
    import yaml

    path = directory / f"{name}.{fmt}"
    if fmt == "yaml":
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    elif fmt == "toml":
        path.write_text(to_toml(data))
    else:
        path.write_text(json.dumps(data, indent=2))
    return path


# ------------------------------------------------------------------------------------------- self-checks


def test_the_test_plugin_registers_every_component_the_tests_use() -> None:
    registry = make_pm().registry
    assert registry.names("model_client") == ["fake", "replay"]  # replay is the kernel's built-in
    assert registry.names("agent") == ["helper", "note"]
    assert registry.names("termination_condition") == ["max_messages", "text_mention"]
    assert registry.names("cache_store") == ["memory"]


def test_toml_writer_round_trips_the_base_config() -> None:
    import tomllib

    assert tomllib.loads(to_toml(base_config())) == base_config()
