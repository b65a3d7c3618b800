"""salon.code_executor: code blocks and results, the executor base class, functions with requirements."""

from __future__ import annotations

import math
from json import dumps
from typing import Any

import pytest

from salon import CancellationToken
from salon.code_executor import (
    Alias,
    CodeBlock,
    CodeExecutor,
    CodeResult,
    FunctionWithRequirements,
    FunctionWithRequirementsStr,
    ImportFromModule,
    build_python_functions_file,
    import_to_str,
    to_code,
    to_stub,
    with_requirements,
)


class RecordingExecutor(CodeExecutor):
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def execute_code_blocks(
        self, code_blocks: list[CodeBlock], cancellation_token: CancellationToken
    ) -> CodeResult:
        self.calls.append("execute")
        return CodeResult(exit_code=0, output="".join(block.code for block in code_blocks))

    async def start(self) -> None:
        self.calls.append("start")

    async def stop(self) -> None:
        self.calls.append("stop")

    async def restart(self) -> None:
        self.calls.append("restart")


async def test_executor_is_an_async_context_manager_that_stops_even_on_error() -> None:
    executor = RecordingExecutor()

    async def use() -> None:
        async with executor as entered:
            assert entered is executor
            await executor.execute_code_blocks([CodeBlock(code="x", language="python")], CancellationToken())
            raise KeyError("inside")

    with pytest.raises(KeyError):
        await use()
    assert executor.calls == ["start", "execute", "stop"]


def test_executor_is_abstract() -> None:
    with pytest.raises(TypeError, match="abstract"):
        CodeExecutor()  # type: ignore[abstract]


def test_code_block_and_result_are_plain_dataclasses() -> None:
    assert CodeBlock(code="print(1)", language="python") == CodeBlock("print(1)", "python")
    assert CodeResult(exit_code=1, output="boom") == CodeResult(1, "boom")


# -- imports ---------------------------------------------------------------------------------------------


def test_import_statements() -> None:
    assert import_to_str("os") == "import os"
    assert import_to_str(Alias("numpy", "np")) == "import numpy as np"
    statement = import_to_str(ImportFromModule("os.path", ["join", Alias("exists", "there")]))
    assert statement == "from os.path import join, exists as there"


def test_import_from_module_is_hashable_even_from_a_list() -> None:
    first = ImportFromModule("math", ["sqrt", "pi"])
    assert first.imports == ("sqrt", "pi")
    assert len({first, ImportFromModule("math", ("sqrt", "pi"))}) == 1


# -- functions with requirements -------------------------------------------------------------------------


@with_requirements(python_packages=["numpy>=1"], global_imports=["math", ImportFromModule("json", ["dumps"])])
def hypotenuse(a: float, b: float) -> str:
    """Return the hypotenuse as JSON."""
    return dumps(math.sqrt(a * a + b * b))


@with_requirements(
    global_imports=[
        "math",
    ],
)
def area(r: float) -> float:
    return math.pi * r * r


def test_decorated_function_keeps_its_identity_and_stays_callable() -> None:
    assert isinstance(hypotenuse, FunctionWithRequirements)
    assert hypotenuse(3, 4) == "5.0"
    assert (vars(hypotenuse)["__name__"], hypotenuse.__doc__) == ("hypotenuse", "Return the hypotenuse as JSON.")
    assert list(hypotenuse.python_packages) == ["numpy>=1"]


def test_to_code_drops_decorators_even_when_they_span_lines() -> None:
    assert to_code(area).startswith("def area(r: float) -> float:")
    assert to_code(hypotenuse).startswith("def hypotenuse(")


def test_functions_file_defines_every_function_after_its_imports() -> None:
    triple = FunctionWithRequirements.from_str("def triple(x):\n    return 3 * x\n", global_imports=[Alias("os", "o")])
    content = build_python_functions_file([hypotenuse, area, triple])
    header = content.split("\n\n")[0].splitlines()
    assert header == ["from json import dumps", "import math", "import os as o"]  # sorted, each once
    namespace: dict[str, Any] = {}
    exec(content, namespace)
    assert (namespace["hypotenuse"](6, 8), namespace["triple"](2)) == ("10.0", 6)
    assert namespace["area"](1.0) == pytest.approx(math.pi)


def test_stubs_show_signature_and_docstring() -> None:
    assert (
        to_stub(hypotenuse)
        == 'def hypotenuse(a: float, b: float) -> str:\n    """Return the hypotenuse as JSON."""\n    ...'
    )
    source = FunctionWithRequirements.from_str('def greet(name: str) -> str:\n    """Say hello."""\n    return name\n')
    assert to_stub(source) == 'def greet(name: str) -> str:\n    """Say hello."""\n    ...'


def test_function_source_is_checked_when_declared() -> None:
    with pytest.raises(ValueError, match="Could not compile the function source: SyntaxError"):
        FunctionWithRequirementsStr("def broken(:\n")
    with pytest.raises(ValueError, match="exactly one function; it defines 2"):
        FunctionWithRequirementsStr("def a():\n    pass\ndef b():\n    pass\n")
    with pytest.raises(NotImplementedError, match="only inside a code executor"):
        FunctionWithRequirementsStr("def a():\n    pass\n")()


def test_from_callable() -> None:
    def plain(x: int) -> int:
        return x + 1

    wrapped = FunctionWithRequirements.from_callable(plain, python_packages=["a"], global_imports=["b"])
    assert wrapped(1) == 2 and list(wrapped.global_imports) == ["b"]
