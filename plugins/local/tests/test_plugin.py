"""salon-local as a plugin: what it registers, its options, and its real entry point."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

import salon_local
from salon import PluginManager
from salon.testing import check_found_through_entry_point, check_plugin_stays_light
from salon_local import LocalCommandLineCodeExecutor, LocalCommandLineCodeExecutorOptions, SandboxLimits


def in_process_plugin_manager() -> PluginManager:
    pm = PluginManager(entry_points_enabled=False, strict=True)
    pm.add_plugin(salon_local, "local", distribution="salon-local", version=salon_local.__version__)
    return pm


def test_registers_the_local_executor() -> None:
    spec = in_process_plugin_manager().registry.get("code_executor", "local")
    assert spec.distribution == "salon-local"
    assert spec.description.startswith("LocalCommandLineCodeExecutor")
    assert spec.options_model is LocalCommandLineCodeExecutorOptions


def test_factory_builds_the_executor_from_validated_options(tmp_path: object) -> None:
    spec = in_process_plugin_manager().registry.get("code_executor", "local")
    options = spec.options_model.model_validate(
        {"timeout": 5, "work_dir": str(tmp_path), "sandbox": True, "sandbox_limits": {"max_processes": 10}}
    )
    executor = spec.factory(**options.model_dump())
    assert isinstance(executor, LocalCommandLineCodeExecutor)
    assert (executor.timeout, executor.sandboxed) == (5, True)
    assert executor.sandbox_limits == SandboxLimits(max_processes=10)


def test_options_are_validated() -> None:
    with pytest.raises(ValidationError, match="timeot"):
        LocalCommandLineCodeExecutorOptions.model_validate({"timeot": 3})
    with pytest.raises(ValidationError, match="max_processes"):
        LocalCommandLineCodeExecutorOptions.model_validate({"sandbox_limits": {"max_processes": 0}})


def test_loading_the_plugin_stays_light() -> None:
    check_plugin_stays_light(
        "salon_local", "local", heavy=["pydantic", "salon_local._executor", "salon_local._options"]
    )


def test_found_through_its_entry_point() -> None:
    check_found_through_entry_point("local", distribution="salon-local", components={"code_executor": ["local"]})
