"""The code executor contract: what an agent hands over (code blocks) and what it gets back (a result)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from types import TracebackType
from typing import ClassVar, Self

from .._cancellation_token import CancellationToken

__all__ = ["CodeBlock", "CodeExecutor", "CodeResult"]


@dataclass
class CodeBlock:
    """One fenced block of code taken from a message, with the language its fence named.

    Attributes:
        code: The source text, without the fence.
        language: The fence's language tag (``"python"``, ``"sh"``, ...). Executors compare it
            case-insensitively and decide which languages they run.
    """

    code: str
    language: str


@dataclass
class CodeResult:
    """What running a list of code blocks produced.

    Attributes:
        exit_code: 0 when every block succeeded, else the exit code of the block that failed
            (124 when a block ran out of time, as the ``timeout`` command reports it).
        output: Everything the blocks wrote to stdout and stderr, in order, so the model that wrote the
            code sees its errors and can fix them.
    """

    exit_code: int
    output: str


@dataclass
class CommandLineCodeResult(CodeResult):
    """A :class:`CodeResult` from an executor that saves each block to a file before running it.

    Command-line executors (``salon-local``, ``salon-docker``) return it, as AutoGen's do, so code that
    reads ``result.code_file`` ports unchanged.

    Attributes:
        code_file: The path of the first block's code file (relative when the executor's working directory
            was given as a relative path), or ``None`` when no block was saved. The file may already be
            deleted when the executor cleans up its temporary files.
    """

    code_file: str | None = None


class CodeExecutor(ABC):
    """Runs code blocks somewhere (a local sandbox, a container, a remote session) and reports the result.

    Agents and :class:`~salon.tools.PythonCodeExecutionTool` only talk to this contract, so the place
    where code runs is chosen by configuration (``salon-local``, ``salon-docker``) rather than by code.

    Implementations hold resources (processes, containers, temporary directories), so use them as async
    context managers: ``async with Executor(...) as executor:`` calls :meth:`start` and :meth:`stop`.
    The behaviour every implementation must show is pinned down by
    :class:`salon.testing.CodeExecutorConformanceSuite`; in short:

    - blocks run in order, in the executor's working directory, and stop at the first block that fails;
    - a block that runs longer than the executor's timeout is stopped and reported with exit code 124;
    - cancelling the token stops the running code and raises :class:`asyncio.CancelledError`: a timeout
      is a fact about the code that the model should see, a cancellation is the caller's decision;
    - an unsupported language is a failed result naming the language, not an exception.
    """

    component_type: ClassVar[str] = "code_executor"

    @abstractmethod
    async def execute_code_blocks(
        self, code_blocks: list[CodeBlock], cancellation_token: CancellationToken
    ) -> CodeResult:
        """Run ``code_blocks`` in order and return their combined result.

        Args:
            code_blocks: The blocks to run, in order.
            cancellation_token: Cancelling it stops the code that is running.

        Returns:
            The exit code of the last block that ran and the output of every block that ran.

        Raises:
            ValueError: The input cannot be run at all (for example the executor is not started).
            asyncio.CancelledError: ``cancellation_token`` was cancelled while the code ran.
        """

    @abstractmethod
    async def start(self) -> None:
        """Acquire what the executor needs (a directory, a container). Calling it twice is harmless."""

    @abstractmethod
    async def stop(self) -> None:
        """Release everything :meth:`start` acquired. Calling it twice is harmless."""

    @abstractmethod
    async def restart(self) -> None:
        """Return the executor to a freshly started state (agents call it when they are reset)."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> bool | None:
        await self.stop()
        return None
