"""The ``salon`` command line: ``salon plugins``, ``salon config check|schema``, ``salon run`` and plugins' commands.

The command is installed as a console script (``salon``) and runs as ``python -m salon``. It uses only
the standard library's ``argparse``; each command's module is imported when that command runs, so
``salon plugins`` never pays for pydantic, YAML or the DI container (see ``benchmarks/`` for the
budget). Plugins add commands through the ``register_commands(cli)`` hook.

Exit status: 0 on success, 1 when a command fails (a plugin that cannot load in strict mode, an agent
that raised), 2 for a usage or config error. Errors a user can fix are printed on stderr as a message
(one line per problem), never as a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._plugin_manager import PluginManager

__all__ = ["main", "build_parser", "PROG"]

PROG = "salon"

Handler = Callable[[argparse.Namespace], int]

_DESCRIPTION = """\
Salon: AutoGen's agent model on a small kernel, composed from plugins and config files.

Plugins are found through the entry point group `salon`. SALON_LOAD_PLUGINS=a,b loads only
those plugins (empty: none); SALON_STRICT_PLUGINS=1 makes a plugin that fails to load an error.
"""


def _plugins_handler(args: argparse.Namespace) -> int:
    from ._cli_plugins import run_plugins

    return run_plugins(args)


def _config_check_handler(args: argparse.Namespace) -> int:
    from ._cli_config import run_check

    return run_check(args)


def _config_schema_handler(args: argparse.Namespace) -> int:
    from ._cli_config import run_schema

    return run_schema(args)


def _run_handler(args: argparse.Namespace) -> int:
    from ._cli_run import run_run

    return run_run(args)


def _add_builtin_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    plugins = commands.add_parser(
        "plugins",
        help="list installed plugins, their components, and the ones that failed to load",
        description="List installed plugins: distribution, version, hooks, the components each registered, "
        "and why a plugin failed to load.",
    )
    plugins.add_argument("--json", action="store_true", help="print a JSON list instead of text")
    plugins.add_argument("--all", action="store_true", help="include the kernel's built-in plugins")
    plugins.set_defaults(handler=_plugins_handler)

    config = commands.add_parser("config", help="check a config file, or print the config JSON Schema")
    config_commands = config.add_subparsers(title="commands", metavar="COMMAND")
    check = config_commands.add_parser(
        "check",
        help="validate a config file and summarize what it builds",
        description="Build the container from FILE, validate every component's options and references, "
        "and print a short summary. Exit status 2 when the config is wrong.",
    )
    check.add_argument("file", metavar="FILE", help="a YAML, TOML or JSON config file")
    _add_no_local_plugins(check)
    check.set_defaults(handler=_config_check_handler)
    schema = config_commands.add_parser(
        "schema",
        help="print the JSON Schema of config files, with every installed plugin's options",
        description="Print the JSON Schema of config files (for editors), including every installed plugin's "
        "component options.",
    )
    schema.set_defaults(handler=_config_schema_handler)
    config.set_defaults(handler=_help_of(config))

    run = commands.add_parser(
        "run",
        help="run the team a config file describes on a task, or send a task to one of its agents",
        description="Run the team FILE describes on --task TEXT and stream it to the terminal; without a team: "
        "start the runtime and agents FILE describes and, with --task, send TEXT to one agent and print its answer.",
    )
    run.add_argument("file", metavar="FILE", help="a YAML, TOML or JSON config file")
    run.add_argument("--task", metavar="TEXT", help="the team's task, or the text to send to the agent (a str message)")
    run.add_argument("--agent", metavar="NAME", help="the configured agent to send the task to (default: the only one)")
    run.add_argument(
        "--state",
        metavar="PATH",
        help="a team's state file: loaded before the run when it exists, saved after it (continues a conversation)",
    )
    _add_no_local_plugins(run)
    run.set_defaults(handler=_run_handler)


def _add_no_local_plugins(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-local-plugins",
        action="store_true",
        help="refuse the local plugin files a config lists (`plugins: {local: [...]}`)",
    )


def _help_of(parser: argparse.ArgumentParser) -> Handler:
    """A handler for a command group given without a subcommand: print its help, exit status 2."""

    def show_help(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return show_help


def build_parser(plugin_manager: PluginManager) -> argparse.ArgumentParser:
    """The ``salon`` argument parser: the built-in commands plus those the loaded plugins add.

    A plugin whose ``register_commands`` hook raises (or reuses a command's name) loses its commands,
    with a warning on stderr; the others keep theirs (an error in strict mode).

    Raises:
        PluginLoadError: in strict mode, when a plugin's ``register_commands`` fails.
    """
    from . import __version__

    parser = argparse.ArgumentParser(
        prog=PROG, description=_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_builtin_commands(commands)
    _add_plugin_commands(plugin_manager, commands)
    parser.set_defaults(handler=_help_of(parser))
    return parser


def _add_plugin_commands(
    plugin_manager: PluginManager, commands: argparse._SubParsersAction[argparse.ArgumentParser]
) -> None:
    from ._plugin_manager import PluginLoadError
    from ._plugin_manager import _env_strict as strict_from_env

    records = {record.name: record for record in plugin_manager.records}
    for impl in plugin_manager.hook.register_commands.get_hookimpls():
        try:
            impl.function(*[{"cli": commands}[name] for name in impl.argnames])
        except Exception as e:
            record = records.get(impl.plugin_name)
            where = f"plugin {impl.plugin_name!r}" + (f" (distribution {record.distribution})" if record else "")
            message = f"{where} could not add its commands: {type(e).__name__}: {e}"
            if strict_from_env():
                raise PluginLoadError(message) from e
            print(f"{PROG}: warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None, *, plugin_manager: PluginManager | None = None) -> int:
    """Run the ``salon`` command with ``argv`` (default: ``sys.argv[1:]``) and return its exit status.

    Args:
        argv: The arguments after the program name.
        plugin_manager: The plugins whose commands and components the command line shows; default: a
            new :class:`~salon.PluginManager` with every installed plugin (as selected by
            ``SALON_LOAD_PLUGINS``). Tests pass their own. Config files still load the plugins they
            select themselves.

    The parsed arguments carry the plugin manager as ``args.plugin_manager``, so commands do not load
    the plugins a second time.
    """
    from ._plugin_manager import PluginLoadError, PluginManager

    arguments = sys.argv[1:] if argv is None else list(argv)
    if arguments == ["--version"]:  # answered without loading plugins, so it works even when one is broken
        from . import __version__

        print(f"{PROG} {__version__}")
        return 0
    try:
        if plugin_manager is None:
            plugin_manager = PluginManager()
        parser = build_parser(plugin_manager)
    except PluginLoadError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    try:
        args = parser.parse_args(arguments)
    except SystemExit as e:  # --help, or a usage error argparse has already printed
        return e.code if isinstance(e.code, int) else 2
    args.plugin_manager = plugin_manager
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `salon plugins | head`: the reader left. Point stdout at /dev/null so that Python's final
        # flush does not print a second error, as the Python docs recommend.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
