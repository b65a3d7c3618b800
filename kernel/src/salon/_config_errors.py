"""Config errors that people can act on: file, path in it, what was expected, what was found.

Every problem found in a config becomes one :class:`ConfigProblem`; a :class:`ConfigError` carries the
problems of one load. Library exceptions (pydantic, YAML, TOML, JSON) never escape: they are converted
here, and kept as ``__cause__`` only when their text holds no secret.

Secrets: any value that came from the environment through ``${NAME}`` is shown as its ``${NAME}``
template, never as its value, and every message is scrubbed of those values as a last line of defence.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ConfigError",
    "ConfigProblem",
    "Problems",
    "Path",
    "describe",
    "format_path",
    "did_you_mean",
    "one_of",
    "redact",
]

#: A location inside a config document: mapping keys and list indexes, from the root.
Path = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"[\w\-]+")
#: Secrets shorter than this are not scrubbed from free text (they would mangle ordinary words);
#: they are still never shown as values, because values from the environment are shown as templates.
_MIN_SCRUB = 4


def format_path(path: Path) -> str:
    """``("agents", "writer", "options", "tools", 0)`` -> ``agents.writer.options.tools[0]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with a config.

    Attributes:
        source: The file (as given) or ``"<dict>"``.
        path: Where in the document (``agents.writer.options.model_client``); empty for the whole document.
        expected: What would have been right, phrased to follow "expected".
        found: What is there instead, phrased to follow "found".
        hint: How to fix it, when there is more to say.
        line: 1-based line in the file, when the parser tells.
        column: 1-based column, when the parser tells.
    """

    source: str
    path: str
    expected: str
    found: str
    hint: str = ""
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        text = f"{self.source}: {self.path}: " if self.path else f"{self.source}: "
        text += f"expected {self.expected}, found {self.found}"
        if self.line is not None:
            text += f" (line {self.line}" + (f", column {self.column})" if self.column is not None else ")")
        if self.hint:
            text += f". {self.hint}"
        return text


class ConfigError(ValueError):
    """A config (file, dict or dumped component) is wrong; ``str()`` says where and how, one line per problem.

    Attributes:
        problems: Every problem found, in document order; a single mistake gives a single problem.
    """

    def __init__(self, problems: ConfigProblem | Sequence[ConfigProblem]) -> None:
        self.problems: tuple[ConfigProblem, ...] = (
            (problems,) if isinstance(problems, ConfigProblem) else tuple(problems)
        )
        if not self.problems:
            raise ValueError("ConfigError needs at least one problem")
        super().__init__("\n".join(str(problem) for problem in self.problems))

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from the problems (not from the message), so the error survives pickling (xdist, processes).
        return (type(self), (self.problems,))

    @property
    def source(self) -> str:
        """The file of the first problem."""
        return self.problems[0].source

    @property
    def path(self) -> str:
        """The path of the first problem."""
        return self.problems[0].path

    @property
    def expected(self) -> str:
        """What the first problem expected."""
        return self.problems[0].expected

    @property
    def found(self) -> str:
        """What the first problem found."""
        return self.problems[0].found


def redact(text: str, secrets: Mapping[str, str]) -> str:
    """Replace every secret value (longest first) in ``text`` by its ``${NAME}`` placeholder."""
    for value in sorted(secrets, key=len, reverse=True):
        if len(value) >= _MIN_SCRUB and value in text:
            text = text.replace(value, secrets[value])
    return text


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """A hint naming the closest choice to a misspelt ``word``, or ``""``."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"Did you mean {close[0]!r}?" if close else ""


def one_of(names: Iterable[str]) -> str:
    """``"one of: a, b"`` or ``"none defined"``, for "expected ... (...)" phrases."""
    listed = sorted(names)
    return f"one of: {', '.join(listed)}" if listed else "none defined"


def describe(value: Any, template: str | None = None) -> str:
    """Say what a value is, without ever printing a secret or a whole document.

    Args:
        value: The value found.
        template: The ``${...}`` text the value was interpolated from; shown instead of the value.
    """
    if template is not None:
        return repr(template)
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return repr(shown)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Mapping):
        return f"a mapping with keys {', '.join(map(str, list(value)[:6]))}" if value else "an empty mapping"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    return f"a value of type {type(value).__name__}"


@dataclass
class Problems:
    """Collects the problems of one load, with what is needed to phrase them safely.

    Attributes:
        source: The file (as given) or ``"<dict>"``.
        positions: Path -> (line, column), for formats whose parser tells (YAML).
        templates: Path -> the ``${...}`` text a string value was interpolated from.
        secrets: Value that came from the environment -> its ``${NAME}`` placeholder.
        items: The problems recorded so far.
        causes: Library exceptions behind them; the first secret-free one becomes ``__cause__``.
    """

    source: str
    positions: dict[Path, tuple[int, int]] = field(default_factory=dict)
    templates: dict[Path, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    items: list[ConfigProblem] = field(default_factory=list)
    causes: list[BaseException] = field(default_factory=list)

    def add(self, path: Path, expected: str, found: str, hint: str = "") -> None:
        """Record a problem at ``path``; ``found`` must come from :meth:`found` or be secret-free."""
        line = column = None
        for end in range(len(path), -1, -1):
            if path[:end] in self.positions:
                line, column = self.positions[path[:end]]
                break
        self.items.append(
            ConfigProblem(
                self.source,
                format_path(path),
                redact(expected, self.secrets),
                redact(found, self.secrets),
                redact(hint, self.secrets),
                line,
                column,
            )
        )

    def fresh(self) -> Problems:
        """An empty collector for the same document (same positions, templates and secrets)."""
        return Problems(self.source, self.positions, self.templates, self.secrets)

    def found(self, path: Path, value: Any) -> str:
        """:func:`describe` the value at ``path``, as its template when it was interpolated."""
        return describe(value, self.templates.get(path))

    def safe_cause(self, error: BaseException | None) -> BaseException | None:
        """``error`` if its text holds no secret (so it may be chained as ``__cause__``), else ``None``."""
        if error is None:
            return None
        try:
            text = f"{error!s} {error!r}"
        except Exception:
            return None
        return None if any(secret and secret in text for secret in self.secrets) else error

    def raise_if_any(self, cause: BaseException | None = None) -> None:
        """Raise one :class:`ConfigError` with every problem collected so far.

        Raises:
            ConfigError: if any problem was recorded.
        """
        if self.items:
            if cause is None and self.causes:
                cause = self.causes[0]
            error = ConfigError(self.items)
            raise error from self.safe_cause(cause)
