"""Errors of the MCP plugin: a server that would not start, a connection that broke."""

from __future__ import annotations

__all__ = ["McpConnectionError", "McpServerStartError"]

_STDERR_TAIL = 4000


def _tail(text: str) -> str:
    text = text.strip()
    if len(text) > _STDERR_TAIL:
        return "..." + text[-_STDERR_TAIL:]
    return text


class McpConnectionError(RuntimeError):
    """The connection to an MCP server could not be made or was lost.

    Attributes:
        server: The server's command line or URL.
    """

    def __init__(self, message: str, *, server: str) -> None:
        super().__init__(message)
        self.server = server


class McpServerStartError(McpConnectionError):
    """An MCP server did not start, or exited before answering the MCP handshake.

    The message carries everything needed to fix it without re-running by hand: the command line, the
    exit code and the end of what the server wrote on stderr.

    Attributes:
        command_line: The command that was run (stdio servers) or the URL (HTTP servers).
        exit_code: The process's exit status, ``None`` if it did not exit or is not a process.
        stderr: What the server wrote on stderr (stdio servers), possibly cut to its end.
    """

    def __init__(
        self,
        reason: str,
        *,
        command_line: str,
        exit_code: int | None = None,
        stderr: str = "",
        what: str = "failed to start",
    ) -> None:
        self.command_line = command_line
        self.exit_code = exit_code
        self.stderr = _tail(stderr)
        lines = [f"The MCP server {command_line} {what}: {reason}"]
        if exit_code is not None:
            lines.append(f"exit code: {exit_code}")
        if self.stderr:
            lines.append("stderr:\n" + self.stderr)
        elif exit_code is not None:
            lines.append("stderr: (empty)")
        super().__init__("\n".join(lines), server=command_line)
