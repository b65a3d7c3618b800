"""``${NAME}`` and ``${NAME:default}`` in config strings, with secrets remembered so they are never shown.

Interpolation happens on the parsed data (never on the file's text), so a value from the environment
can never change the document's structure, whatever characters it holds. ``$${`` writes a literal
``${``. A string that was interpolated keeps its original text as a *template*: errors and dumps show
the template, and the environment values themselves are collected as secrets to scrub from messages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ._config_errors import Path, Problems

__all__ = ["interpolate"]

_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SYNTAX = "${NAME} or ${NAME:default}, NAME made of letters, digits and _ (write $${ for a literal ${)"


def interpolate(data: Any, environ: Mapping[str, str], problems: Problems, path: Path = ()) -> Any:
    """Return a copy of ``data`` with every ``${...}`` in its strings replaced.

    Keys are never interpolated. Templates and secrets are recorded in ``problems`` (which phrases all
    later errors), and a missing variable or a malformed ``${`` is recorded as a problem.
    """
    if isinstance(data, str):
        return _string(data, environ, problems, path) if "${" in data else data
    if isinstance(data, Mapping):
        return {key: interpolate(value, environ, problems, (*path, str(key))) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [interpolate(value, environ, problems, (*path, index)) for index, value in enumerate(data)]
    return data


def _string(text: str, environ: Mapping[str, str], problems: Problems, path: Path) -> str:
    pieces: list[str] = []
    position = 0
    substituted = False
    for match in _TOKEN.finditer(text):
        pieces.append(text[position : match.start()])
        position = match.end()
        token = match.group(0)
        if token == "$${":
            pieces.append("${")
            substituted = True  # keep the original text, so a dump writes the escape back
            continue
        inner = match.group(1)
        if inner is None:
            problems.add(path, _SYNTAX, "an unterminated '${'")
            return text
        name, has_default, default = inner.partition(":")
        if not _NAME.fullmatch(name) or "${" in default:
            problems.add(path, _SYNTAX, repr(token) if len(token) <= 60 else "a malformed '${...}'")
            return text
        substituted = True
        value = environ.get(name)
        if value is None:
            if not has_default:
                problems.add(
                    path,
                    f"environment variable {name} to be set (or a default, as in ${{{name}:default}})",
                    f"{name} unset",
                )
                return text
            value = default
        elif value:
            problems.secrets.setdefault(value, "${" + name + "}")
        pieces.append(value)
    pieces.append(text[position:])
    if substituted:
        problems.templates[path] = text
    return "".join(pieces)
