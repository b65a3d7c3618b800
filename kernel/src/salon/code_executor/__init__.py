"""Code executors: the contract for running model-written code, and functions that code may import.

``from salon.code_executor import X`` is the port of ``from autogen_core.code_executor import X``.
Concrete executors are plugins (``salon-local``, ``salon-docker``); every one of them runs
:class:`salon.testing.CodeExecutorConformanceSuite`. This package does not import pydantic.
"""

from ._base import CodeBlock, CodeExecutor, CodeResult, CommandLineCodeResult
from ._func_with_reqs import (
    Alias,
    FunctionWithRequirements,
    FunctionWithRequirementsStr,
    Import,
    ImportFromModule,
    build_python_functions_file,
    import_to_str,
    to_code,
    to_stub,
    with_requirements,
)

__all__ = [
    "Alias",
    "CodeBlock",
    "CodeExecutor",
    "CodeResult",
    "CommandLineCodeResult",
    "FunctionWithRequirements",
    "FunctionWithRequirementsStr",
    "Import",
    "ImportFromModule",
    "build_python_functions_file",
    "import_to_str",
    "to_code",
    "to_stub",
    "with_requirements",
]
