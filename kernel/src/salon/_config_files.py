"""Reading config files (YAML, TOML, JSON) into plain data, with parser errors turned into ConfigErrors.

YAML is read through its node tree so that every value's line and column are known (errors point at
them) and so that a key written twice is an error, not a silent overwrite (PyYAML keeps the last).
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path as FsPath
from typing import Any

from ._config_errors import ConfigError, ConfigProblem, Path, describe, format_path

__all__ = ["SUFFIXES", "MAX_VALUES", "read_config_file", "parse_config_text"]

#: File suffix -> format name.
SUFFIXES: dict[str, str] = {".yaml": "YAML", ".yml": "YAML", ".toml": "TOML", ".json": "JSON"}

#: The most values a YAML document may expand to through aliases (a "billion laughs" file is refused, not
#: expanded), and the size reported for a document that contains itself.
MAX_VALUES = 100_000
_RECURSIVE = 1 << 62

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")


def read_config_file(path: FsPath, source: str) -> tuple[Any, dict[Path, tuple[int, int]]]:
    """Read and parse ``path``; return the data and, for YAML, each value's (line, column).

    Raises:
        ConfigError: the file is missing, unreadable, of an unknown format, or malformed.
    """
    fmt = SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise ConfigError(
            ConfigProblem(
                source, "", "a config file ending in .yaml, .yml, .toml or .json", describe(path.suffix or path.name)
            )
        )
    try:
        raw = path.read_bytes()
    except OSError as e:
        found = "no such file" if isinstance(e, FileNotFoundError) else f"it unreadable ({e.strerror or e})"
        raise ConfigError(ConfigProblem(source, "", "a readable config file", found)) from e
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ConfigError(
            ConfigProblem(source, "", "a file in UTF-8", f"a byte that is not UTF-8 at offset {e.start}")
        ) from e
    return parse_config_text(text, fmt, source)


def parse_config_text(text: str, fmt: str, source: str) -> tuple[Any, dict[Path, tuple[int, int]]]:
    """Parse ``text`` written in ``fmt`` (``"YAML"``, ``"TOML"`` or ``"JSON"``).

    Raises:
        ConfigError: the text is malformed; the problem gives line and column when the parser does.
    """
    try:
        if fmt == "YAML":
            return _parse_yaml(text, source)
        if fmt == "TOML":
            return _parse_toml(text, source), {}
        return _parse_json(text, source), {}
    except RecursionError:
        raise ConfigError(
            ConfigProblem(source, "", f"valid {fmt} nested a few levels deep", "nesting too deep to read")
        ) from None


def _where(line: int | None, column: int | None) -> str:
    if line is None:
        return ""
    return f"line {line}" + (f", column {column}" if column is not None else "")


def _parse_json(text: str, source: str) -> Any:
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                duplicates.append(key)
            result[key] = value
        return result

    try:
        data = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as e:
        raise ConfigError(
            ConfigProblem(source, _where(e.lineno, e.colno), "valid JSON", f"a syntax error: {e.msg}")
        ) from e
    if duplicates:
        raise ConfigError(
            ConfigProblem(source, "", "each key once in every object", f"the key {duplicates[0]!r} twice")
        )
    return data


def _parse_toml(text: str, source: str) -> Any:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        message = str(e)
        match = _TOML_POSITION.search(message)
        where = _where(int(match.group(1)), int(match.group(2))) if match else ""
        message = message[: match.start()] if match else message
        raise ConfigError(ConfigProblem(source, where, "valid TOML", f"a syntax error: {message}")) from e


def _yaml() -> Any:
    """PyYAML, imported on first use (it ships no type stubs; typed as ``Any`` here)."""
    return importlib.import_module("yaml")


def _parse_yaml(text: str, source: str) -> tuple[Any, dict[Path, tuple[int, int]]]:
    yaml = _yaml()

    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        size = _expanded_size(node, {}, set())
        if size > MAX_VALUES:
            found = "a recursive alias" if size == _RECURSIVE else f"{size:,} values (YAML aliases repeat them)"
            raise ConfigError(ConfigProblem(source, "", f"a document of at most {MAX_VALUES:,} values", found))
        positions: dict[Path, tuple[int, int]] = {}
        duplicates: list[tuple[Path, Any]] = []
        _walk_yaml(loader, node, (), positions, duplicates, set())
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = _where(mark.line + 1, mark.column + 1) if mark is not None else ""
        problem = " ".join(part for part in (e.context, e.problem) if part) or "malformed YAML"
        raise ConfigError(ConfigProblem(source, where, "valid YAML", f"a syntax error: {problem}")) from e
    except yaml.YAMLError as e:
        raise ConfigError(ConfigProblem(source, "", "valid YAML", f"a syntax error: {e}")) from e
    finally:
        loader.dispose()
    if duplicates:
        path, key = duplicates[0]
        line, column = positions.get(path, (None, None))
        raise ConfigError(
            ConfigProblem(source, format_path(path[:-1]), "each key once", f"the key {key!r} twice", "", line, column)
        )
    return data, positions


def _expanded_size(node: Any, sizes: dict[int, int], active: set[int]) -> int:
    """How many values ``node`` stands for once aliases are expanded (computed once per node)."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in active:
        return _RECURSIVE
    active.add(key)
    total = 1
    if isinstance(node.value, list):
        for item in node.value:
            for child in item if isinstance(item, tuple) else (item,):
                total = min(total + _expanded_size(child, sizes, active), _RECURSIVE)
    active.discard(key)
    sizes[key] = total
    return total


def _walk_yaml(
    loader: Any,
    node: Any,
    path: Path,
    positions: dict[Path, tuple[int, int]],
    duplicates: list[tuple[Path, Any]],
    seen: set[int],
) -> None:
    """Record where each value starts and find duplicate keys; aliases are walked once (no blow-up)."""
    yaml = _yaml()

    positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        keys: set[Any] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = loader.construct_object(key_node)
            if not isinstance(key, str | int | float | bool):
                continue
            child = (*path, key if isinstance(key, str) else str(key))
            if key in keys:
                positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                duplicates.append((child, key))
            keys.add(key)
            _walk_yaml(loader, value_node, child, positions, duplicates, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk_yaml(loader, item, (*path, index), positions, duplicates, seen)
