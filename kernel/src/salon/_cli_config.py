"""``salon config check FILE`` and ``salon config schema``.

``check`` is what a user runs before ``salon run`` and what CI runs on committed configs: it builds the
container (every option validated, every reference resolved), builds every component (so a factory
that rejects its options is caught too), and prints what the file composes: paths and registered names,
never option values, so a secret given through ``${NAME}`` cannot leak into a terminal or a CI log.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._container import Container

__all__ = ["CONFIG_ERROR_STATUS", "CommandError", "load_container", "run_check", "run_schema", "summary"]

#: Exit status of a command given a config that is wrong (argparse uses 2 for usage errors too).
CONFIG_ERROR_STATUS = 2


class CommandError(Exception):
    """A problem that ends a command with a one-line message and an exit status, never a traceback.

    Args:
        message: The whole message; ``ConfigError`` messages already name file, path, expected and found.
        status: The exit status.
    """

    def __init__(self, message: str, status: int = CONFIG_ERROR_STATUS) -> None:
        super().__init__(message)
        self.status = status


def load_container(file: str, *, allow_local_plugins: bool) -> Container:
    """Build and check the container of ``file``.

    Raises:
        CommandError: the config is wrong (status 2), or a plugin fails in strict mode (status 1).
    """
    from ._config_errors import ConfigError
    from ._container import Container
    from ._plugin_manager import PluginLoadError

    try:
        return Container.from_file(file, allow_local_plugins=allow_local_plugins)
    except ConfigError as e:
        raise CommandError(str(e)) from e
    except PluginLoadError as e:
        raise CommandError(str(e), status=1) from e


def run_check(args: argparse.Namespace) -> int:
    """Check ``args.file``; print a summary (exit 0) or the config error on stderr (exit 2)."""
    from ._config_errors import ConfigError

    try:
        container = load_container(args.file, allow_local_plugins=not args.no_local_plugins)
        try:
            text = summary(container)
        except ConfigError as e:  # a factory refused its (valid-looking) options
            raise CommandError(str(e)) from e
    except CommandError as e:
        print(e, file=sys.stderr)
        return e.status
    print(text)
    return 0


def summary(container: Container) -> str:
    """What ``salon config check`` prints: each component's path, registered name and class.

    Builds every component first, so a factory error surfaces as the ``ConfigError`` it raises.
    """
    built = container.components()
    plugins = [record.name for record in container.plugin_manager.records if record.error is None]
    count = len(built)
    lines = [f"{container.source}: OK, {count} component{'s' if count != 1 else ''} (plugins: {', '.join(plugins)})"]
    width = max((len(path) for path in built), default=0)
    for path, obj in built.items():
        lines.append(f"  {path:<{width}}  {_use_name(obj)} ({type(obj).__name__})")
    return "\n".join(lines)


def _use_name(obj: object) -> str:
    """The registered name a built component was configured with (``use:``), or ``?``."""
    from ._component_dump import dump_component

    try:
        return str(dump_component(obj).get("use", "?"))
    except Exception:  # only a label: a component that cannot describe itself must not fail the check
        return "?"


def run_schema(args: argparse.Namespace) -> int:
    """Print the JSON Schema of config files for the plugins this command line loaded."""
    from ._config_schema import config_json_schema

    print(json.dumps(config_json_schema(args.plugin_manager), indent=2))
    return 0
