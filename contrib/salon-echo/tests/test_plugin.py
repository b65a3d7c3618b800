"""salon-echo as a plugin: what it registers, found in-process and through its real entry point."""

from __future__ import annotations

import argparse

import pytest
from pydantic import ValidationError

import salon_echo
from salon import PluginManager
from salon.cli import build_parser
from salon.testing import check_found_through_entry_point, check_plugin_stays_light
from salon_echo import EchoAgent, EchoOptions


def in_process_plugin_manager() -> PluginManager:
    """Just the kernel's built-ins and this plugin, whatever else is installed (how tests load a plugin)."""
    pm = PluginManager(entry_points_enabled=False, strict=True)
    pm.add_plugin(salon_echo, "echo", distribution="salon-echo", version=salon_echo.__version__)
    return pm


def test_registers_the_echo_agent() -> None:
    pm = in_process_plugin_manager()
    spec = pm.registry.get("agent", "echo")
    assert spec.plugin == "echo"
    assert spec.distribution == "salon-echo"
    assert spec.description.startswith("EchoAgent")
    assert spec.options_model is EchoOptions
    assert pm.registry.names("agent") == ["echo"]


def test_records_its_hooks() -> None:
    record = next(r for r in in_process_plugin_manager().records if r.name == "echo")
    assert record.error is None
    assert record.hooks == ["register_agents", "register_commands"]


def test_options_default_and_validation() -> None:
    assert EchoOptions().prefix == "echo: "
    assert EchoOptions.model_validate({"prefix": "> "}).prefix == "> "
    with pytest.raises(ValidationError, match="prefx"):
        EchoOptions.model_validate({"prefx": "> "})
    with pytest.raises(ValidationError, match="prefix"):
        EchoOptions.model_validate({"prefix": 3})


def test_factory_builds_the_agent_from_validated_options() -> None:
    spec = in_process_plugin_manager().registry.get("agent", "echo")
    options = spec.options_model.model_validate({"prefix": "> "})
    agent = spec.factory(**options.model_dump())
    assert isinstance(agent, EchoAgent)
    assert agent.prefix == "> "


def test_loading_the_plugin_imports_neither_pydantic_nor_the_agent() -> None:
    """Every `salon` command imports every plugin, so the plugin module must stay light (DESIGN.md §3)."""
    check_plugin_stays_light("salon_echo", "echo", heavy=["pydantic", "salon_echo._agent", "salon_echo._options"])


def test_found_through_its_entry_point() -> None:
    """Needs the distribution installed (nox installs it; locally `uv pip install -e contrib/salon-echo`)."""
    record = check_found_through_entry_point("echo", distribution="salon-echo", components={"agent": ["echo"]})
    assert record.version == salon_echo.__version__


def test_adds_the_echo_command(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser(in_process_plugin_manager())
    args = parser.parse_args(["echo", "--prefix", "> ", "hello there"])
    assert args.handler(args) == 0
    assert capsys.readouterr().out == "> hello there\n"


def test_echo_command_default_prefix(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser(in_process_plugin_manager()).parse_args(["echo", "hi"])
    assert args.handler(args) == 0
    assert capsys.readouterr().out == "echo: hi\n"


def test_echo_command_needs_text(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser(in_process_plugin_manager()).parse_args(["echo"])
    assert exit_info.value.code == 2
    assert "TEXT" in capsys.readouterr().err


def test_register_commands_uses_only_the_documented_cli_surface() -> None:
    """The hook is given argparse sub-parsers; the plugin must work with a plain one too."""
    parser = argparse.ArgumentParser(prog="salon")
    salon_echo.register_commands(cli=parser.add_subparsers())
    args = parser.parse_args(["echo", "x"])
    assert callable(args.handler)
