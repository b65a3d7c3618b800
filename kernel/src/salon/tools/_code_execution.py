"""PythonCodeExecutionTool: lets a model run Python through any :class:`~salon.code_executor.CodeExecutor`."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_serializer

from .._cancellation_token import CancellationToken
from ..code_executor import CodeBlock, CodeExecutor
from ._base import BaseTool

__all__ = ["CodeExecutionInput", "CodeExecutionResult", "PythonCodeExecutionTool"]


class CodeExecutionInput(BaseModel):
    """The tool's one argument: the code to run."""

    code: str = Field(description="The contents of the Python code block that should be executed")


class CodeExecutionResult(BaseModel):
    """Whether the code succeeded, and what it printed.

    Attributes:
        success: The code exited with status 0.
        output: Its stdout and stderr. This is also what the model reads: the result serializes to it.
    """

    success: bool
    output: str

    @model_serializer
    def _serialize(self) -> str:
        return self.output


class PythonCodeExecutionTool(BaseTool[CodeExecutionInput, CodeExecutionResult]):
    """A tool named ``CodeExecutor`` that runs the model's Python code in a code executor.

    Where the code runs (a bubblewrap sandbox, a Docker container) is the executor's business, so the
    same tool works with ``salon_local.LocalCommandLineCodeExecutor`` or
    ``salon_docker.DockerCommandLineCodeExecutor``. Start the executor before the first call (or use
    it as an async context manager); the tool does not own it.

    The model reads the program's output; on failure that includes the traceback, so it can fix its
    code. A non-zero exit is a normal result with ``success=False``, not an error result: the call
    itself worked.

    Args:
        executor: Where the code runs.
    """

    def __init__(self, executor: CodeExecutor) -> None:
        super().__init__(CodeExecutionInput, CodeExecutionResult, "CodeExecutor", "Execute Python code blocks.")
        self._executor = executor

    async def run(self, args: CodeExecutionInput, cancellation_token: CancellationToken) -> CodeExecutionResult:
        """Run ``args.code`` as one Python block."""
        result = await self._executor.execute_code_blocks(
            [CodeBlock(code=args.code, language="python")], cancellation_token=cancellation_token
        )
        return CodeExecutionResult(success=result.exit_code == 0, output=result.output)
