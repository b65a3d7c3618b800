"""What a code block turns into before it runs: its language's command, its file name, its result type."""

from __future__ import annotations

import re
from pathlib import Path

from salon.code_executor import CommandLineCodeResult

__all__ = ["CommandLineCodeResult", "SUPPORTED_LANGUAGES", "command_for", "file_name_from_content", "silence_pip"]

SUPPORTED_LANGUAGES: tuple[str, ...] = ("bash", "shell", "sh", "pwsh", "powershell", "ps1", "python")

_SHELLS = ("bash", "shell", "sh", "pwsh", "powershell", "ps1")


def command_for(language: str) -> str | None:
    """The program inside the container that runs a block in ``language`` (lower case), or ``None``.

    PowerShell runs as ``pwsh``, which the image must provide; AutoGen looked for it on the host, which
    says nothing about the container.
    """
    if language in ("python", "py"):
        return "python"
    if language.startswith("python") and language[6:].replace(".", "").isdigit():
        return language  # python3, python3.11: that interpreter
    if language in ("bash", "sh"):
        return language
    if language == "shell":
        return "sh"
    if language in ("pwsh", "powershell", "ps1"):
        return "pwsh"
    return None


def file_name_from_content(code: str, workspace: Path) -> str | None:
    """The file a block asks to be saved as (a first line ``# filename: <path>``), relative to ``workspace``.

    Raises:
        ValueError: The path points outside ``workspace``; saving there would let code escape it.
    """
    first_line = code.split("\n", 1)[0]
    if not first_line.startswith("# filename:"):
        return None
    name = first_line.split(":", 1)[1].strip()
    path = Path(name)
    if not path.is_absolute():
        path = workspace / path
    return str(path.resolve().relative_to(workspace.resolve()))


def silence_pip(code: str, language: str) -> str:
    """Add ``-qqq`` to ``pip install`` lines, so progress bars do not flood the model's context."""
    if language == "python":
        pattern = re.compile(r"^! ?pip install")
    elif language in _SHELLS:
        pattern = re.compile(r"^pip install")
    else:
        return code
    lines = code.split("\n")
    for index, line in enumerate(lines):
        found = pattern.search(line)
        if found is not None and "-qqq" not in line:
            lines[index] = line.replace(found.group(0), found.group(0) + " -qqq", 1)
    return "\n".join(lines)
