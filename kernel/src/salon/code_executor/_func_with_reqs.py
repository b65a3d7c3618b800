"""Functions that executed code may import, with the packages and imports they need.

An executor given such functions writes them into a module in its working directory (see
:func:`build_python_functions_file`) so model-written code can ``from functions import load_data``,
and can show the model their stubs (:func:`to_stub`) so it knows what exists.
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, ParamSpec, TypeVar

__all__ = [
    "Alias",
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

T = TypeVar("T")
P = ParamSpec("P")


@dataclass(frozen=True)
class Alias:
    """``import name as alias`` (or, inside :class:`ImportFromModule`, ``from m import name as alias``)."""

    name: str
    alias: str


@dataclass(frozen=True, init=False)
class ImportFromModule:
    """``from module import a, b as c``.

    Attributes:
        module: The module to import from.
        imports: The names to import; an :class:`Alias` renames one. A list is accepted and stored as a
            tuple so the import stays hashable (imports are de-duplicated across functions).
    """

    module: str
    imports: tuple[str | Alias, ...]

    def __init__(self, module: str, imports: Sequence[str | Alias]) -> None:
        object.__setattr__(self, "module", module)
        object.__setattr__(self, "imports", tuple(imports))


Import = str | ImportFromModule | Alias
"""One import a function needs: ``"numpy"``, ``Alias("numpy", "np")`` or ``ImportFromModule(...)``."""


def import_to_str(im: Import) -> str:
    """Render one import as the Python statement that performs it."""
    if isinstance(im, str):
        return f"import {im}"
    if isinstance(im, Alias):
        return f"import {im.name} as {im.alias}"
    names = ", ".join(name if isinstance(name, str) else f"{name.name} as {name.alias}" for name in im.imports)
    return f"from {im.module} import {names}"


@dataclass(init=False)
class FunctionWithRequirementsStr:
    """A function given as source text, with its requirements.

    The text is compiled at once so a syntax error or a text without exactly one function is reported
    when the function is declared, not later inside an executor. It is never called in this process:
    it exists to be written into the executor's functions module.

    Attributes:
        func: The source text of the function.
        compiled_func: The compiled function (used for its signature and docstring).
        python_packages: Packages the executor must install (``"pandas>=2"``).
        global_imports: Imports the function's module needs.
    """

    func: str
    compiled_func: Callable[..., Any]
    _func_name: str
    python_packages: Sequence[str] = field(default_factory=list)
    global_imports: Sequence[Import] = field(default_factory=list)

    def __init__(self, func: str, python_packages: Sequence[str] = (), global_imports: Sequence[Import] = ()) -> None:
        self.func = func
        self.python_packages = list(python_packages)
        self.global_imports = list(global_imports)
        module = types.ModuleType("salon_function_source")
        try:
            exec(compile(func, "<function source>", "exec"), module.__dict__)
        except Exception as e:
            raise ValueError(f"Could not compile the function source: {type(e).__name__}: {e}") from e
        functions = [value for value in module.__dict__.values() if inspect.isfunction(value)]
        if len(functions) != 1:
            raise ValueError(f"The source must define exactly one function; it defines {len(functions)}.")
        self.compiled_func = functions[0]
        self._func_name = functions[0].__name__

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        """Refuse: the function exists only as text for an executor."""
        raise NotImplementedError("A function given as source text runs only inside a code executor.")


@dataclass
class FunctionWithRequirements(Generic[T, P]):
    """A Python function plus the packages and imports it needs when executed code imports it.

    It stays callable here, so the same function can be tested directly.

    Attributes:
        func: The function.
        python_packages: Packages the executor must install.
        global_imports: Imports the function's module needs.
    """

    func: Callable[P, T]
    python_packages: Sequence[str] = field(default_factory=list)
    global_imports: Sequence[Import] = field(default_factory=list)

    @classmethod
    def from_callable(
        cls, func: Callable[P, T], python_packages: Sequence[str] = (), global_imports: Sequence[Import] = ()
    ) -> FunctionWithRequirements[T, P]:
        """Wrap an existing function."""
        return cls(func=func, python_packages=list(python_packages), global_imports=list(global_imports))

    @staticmethod
    def from_str(
        func: str, python_packages: Sequence[str] = (), global_imports: Sequence[Import] = ()
    ) -> FunctionWithRequirementsStr:
        """Declare a function from its source text (see :class:`FunctionWithRequirementsStr`)."""
        return FunctionWithRequirementsStr(func, python_packages, global_imports)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> T:
        """Call the wrapped function."""
        return self.func(*args, **kwargs)


def with_requirements(
    python_packages: Sequence[str] = (), global_imports: Sequence[Import] = ()
) -> Callable[[Callable[P, T]], FunctionWithRequirements[T, P]]:
    """Decorate a function with what executed code needs to import it.

    Args:
        python_packages: Packages to install in the execution environment (``["pandas>=2"]``).
        global_imports: Imports the function's module needs (``["pandas"]``, ``Alias("numpy", "np")``).

    Returns:
        A decorator turning the function into a :class:`FunctionWithRequirements` that keeps its name
        and docstring and can still be called directly.
    """

    def decorate(func: Callable[P, T]) -> FunctionWithRequirements[T, P]:
        wrapped = FunctionWithRequirements(
            func=func, python_packages=list(python_packages), global_imports=list(global_imports)
        )
        functools.update_wrapper(wrapped, func)
        return wrapped

    return decorate


def to_code(func: FunctionWithRequirements[Any, Any] | Callable[..., Any] | FunctionWithRequirementsStr) -> str:
    """Return a function's source without its decorators, ready to be written into a module."""
    if isinstance(func, FunctionWithRequirementsStr):
        return func.func
    target = func.func if isinstance(func, FunctionWithRequirements) else func
    source = textwrap.dedent(inspect.getsource(target))
    lines = source.splitlines(keepends=True)
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            # `lineno` is the `def` line itself; decorators (possibly spanning lines) come before it.
            return "".join(lines[node.lineno - 1 :])
    return source


def build_python_functions_file(
    funcs: Sequence[FunctionWithRequirements[Any, Any] | Callable[..., Any] | FunctionWithRequirementsStr],
) -> str:
    """Return the source of a module defining ``funcs`` after the imports they need (each import once)."""
    statements: set[str] = set()
    for func in funcs:
        if isinstance(func, FunctionWithRequirements | FunctionWithRequirementsStr):
            statements.update(import_to_str(im) for im in func.global_imports)
    content = "\n".join(sorted(statements)) + "\n\n"
    for func in funcs:
        content += to_code(func) + "\n\n"
    return content


def to_stub(func: Callable[..., Any] | FunctionWithRequirementsStr) -> str:
    """Return a function's signature and docstring with ``...`` for a body, to show a model what exists."""
    if isinstance(func, FunctionWithRequirementsStr):
        return to_stub(func.compiled_func)
    name = getattr(func, "__name__", type(func).__name__)
    try:  # show `x: int`, not `x: 'int'`, for modules using `from __future__ import annotations`
        signature = inspect.signature(func, eval_str=True)
    except Exception:
        signature = inspect.signature(func)
    stub = f"def {name}{signature}:\n"
    doc = inspect.getdoc(func) if not isinstance(func, FunctionWithRequirements) else inspect.getdoc(func.func)
    if doc:
        stub += textwrap.indent(f'"""{doc}"""', "    ") + "\n"
    return stub + "    ..."
