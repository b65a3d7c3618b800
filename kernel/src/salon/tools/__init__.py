"""Tools and workbenches: what models can call, and how agents call them.

``from salon.tools import X`` is the port of ``from autogen_core.tools import X``, and also of
``from autogen_ext.tools.code_execution import PythonCodeExecutionTool``. See ``docs/tools.md``.
``import salon`` does not import this package (it needs pydantic); it is imported when first used.
"""

from ._base import BaseStreamTool, BaseTool, BaseToolWithState, StreamTool, Tool, ToolOverride
from ._code_execution import CodeExecutionInput, CodeExecutionResult, PythonCodeExecutionTool
from ._errors import ToolArgumentsError
from ._function_tool import FunctionTool
from ._schema import ParametersSchema, ToolSchema
from ._static_workbench import StaticStreamWorkbench, StaticWorkbench
from ._workbench import ImageResultContent, ResultContent, StreamWorkbench, TextResultContent, ToolResult, Workbench

__all__ = [
    "BaseStreamTool",
    "BaseTool",
    "BaseToolWithState",
    "CodeExecutionInput",
    "CodeExecutionResult",
    "FunctionTool",
    "ImageResultContent",
    "ParametersSchema",
    "PythonCodeExecutionTool",
    "ResultContent",
    "StaticStreamWorkbench",
    "StaticWorkbench",
    "StreamTool",
    "StreamWorkbench",
    "TextResultContent",
    "Tool",
    "ToolArgumentsError",
    "ToolOverride",
    "ToolResult",
    "ToolSchema",
    "Workbench",
]
