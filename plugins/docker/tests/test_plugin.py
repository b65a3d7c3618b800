"""salon-docker as a plugin: what it registers, its options, and its real entry point."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from pydantic import ValidationError

import salon_docker
from salon import PluginManager
from salon.testing import check_found_through_entry_point, check_plugin_stays_light
from salon_docker import DockerCommandLineCodeExecutor, DockerCommandLineCodeExecutorOptions


def in_process_plugin_manager() -> PluginManager:
    pm = PluginManager(entry_points_enabled=False, strict=True)
    pm.add_plugin(salon_docker, "docker", distribution="salon-docker", version=salon_docker.__version__)
    return pm


def test_registers_the_docker_executor() -> None:
    spec = in_process_plugin_manager().registry.get("code_executor", "docker")
    assert spec.distribution == "salon-docker"
    assert spec.description.startswith("DockerCommandLineCodeExecutor")
    assert spec.options_model is DockerCommandLineCodeExecutorOptions


def test_factory_builds_the_executor_from_validated_options(tmp_path: Path) -> None:
    spec = in_process_plugin_manager().registry.get("code_executor", "docker")
    options = spec.options_model.model_validate(
        {"image": "my-image:1", "container_name": "box", "timeout": 5, "work_dir": str(tmp_path), "pids_limit": 32}
    )
    executor = spec.factory(**options.model_dump())
    assert isinstance(executor, DockerCommandLineCodeExecutor)
    assert (executor.timeout, executor.container_name, executor.work_dir) == (5, "box", tmp_path)


def test_option_defaults_match_the_executor() -> None:
    """A config that names no option gets exactly the executor's (safe) defaults."""
    parameters = inspect.signature(DockerCommandLineCodeExecutor).parameters
    for name, field in DockerCommandLineCodeExecutorOptions.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if name in ("extra_volumes", "extra_hosts"):  # {} in a config, None (meaning {}) in Python
            assert (default, parameters[name].default) == ({}, None), name
        else:
            assert default == parameters[name].default, name


def test_options_are_validated() -> None:
    with pytest.raises(ValidationError, match="timeot"):
        DockerCommandLineCodeExecutorOptions.model_validate({"timeot": 3})
    with pytest.raises(ValidationError, match="pids_limit"):
        DockerCommandLineCodeExecutorOptions.model_validate({"pids_limit": 0})


def test_loading_the_plugin_stays_light() -> None:
    check_plugin_stays_light("salon_docker", "docker", heavy=["docker", "pydantic", "salon_docker._executor"])


def test_found_through_its_entry_point() -> None:
    check_found_through_entry_point("docker", distribution="salon-docker", components={"code_executor": ["docker"]})
