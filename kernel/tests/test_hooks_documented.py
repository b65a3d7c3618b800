"""Every hook in ``salon.hookspecs`` is documented in ``docs/plugins/hooks.md``, with its real signature.

datasette's idea: the hook reference cannot drift from the hookspecs, because this test fails when

- a hook has no section in the reference (a ``### <hook name>`` heading),
- a section documents a hook that does not exist (renamed or removed),
- a section's signature block (its first fenced code block, ``name(param, ...)``) names other parameters,
  or the parameters in another order, than the hookspec.

The checker is a plain function so that it can be tried on broken documents too (see the tests at the end).
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from salon import hookspecs

ROOT = Path(__file__).resolve().parents[2]
HOOKS_MD = ROOT / "docs" / "plugins" / "hooks.md"
#: Hook sections are headings of this level; every heading of this level must be a hook.
HOOK_HEADING_LEVEL = 3

_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_HEADING = re.compile(r"^ {0,3}(?P<hashes>#{1,6})(?:[ \t]+(?P<text>.*?))?[ \t]*$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# --- what the hookspecs say ---------------------------------------------------------------------------------


def hookspec_signatures(module: object = hookspecs) -> dict[str, list[str]]:
    """Hook name -> parameter names, for every function marked ``@hookspec`` in ``module``."""
    marker = f"{hookspecs.PROJECT_NAME}_spec"  # the attribute pluggy's HookspecMarker sets
    return {
        name: list(inspect.signature(function).parameters)
        for name, function in vars(module).items()
        if inspect.isfunction(function) and hasattr(function, marker)
    }


# --- what the reference says --------------------------------------------------------------------------------


@dataclass
class HookSection:
    """One ``### name`` section of the reference."""

    heading: str  #: the heading text, backticks removed
    line: int  #: 1-based line of the heading
    signature: str | None  #: the text of the section's first fenced code block, or None if it has none


def _heading_text(raw: str | None) -> str:
    text = re.sub(r"[ \t]+#+$", "", (raw or "").strip())  # an ATX heading may end with closing hashes
    return text.strip().strip("`").strip()


def parse_hook_sections(markdown: str) -> list[HookSection]:
    """The hook sections of a markdown document, in order.

    Headings inside fenced code blocks (a ``# comment`` in a shell example) are not headings; a section
    ends at the next heading of its level or higher.
    """
    sections: list[HookSection] = []
    fence: str | None = None  # the opening fence while inside a code block
    block: list[str] = []
    current: HookSection | None = None
    for number, line in enumerate(markdown.splitlines(), start=1):
        opened = _FENCE.match(line)
        if fence is not None:
            closing = (
                opened is not None
                and opened["fence"][0] == fence[0]
                and len(opened["fence"]) >= len(fence)
                and not opened["info"].strip()
            )
            if closing:
                if current is not None and current.signature is None:
                    current.signature = "\n".join(block)
                fence = None
            else:
                block.append(line)
            continue
        if opened is not None:
            fence, block = opened["fence"], []
            continue
        heading = _HEADING.match(line)
        if heading is None:
            continue
        level = len(heading["hashes"])
        if level < HOOK_HEADING_LEVEL:
            current = None
        elif level == HOOK_HEADING_LEVEL:
            current = HookSection(_heading_text(heading["text"]), number, None)
            sections.append(current)
    return sections


def signature_parameters(signature: str) -> tuple[str, list[str]]:
    """Parse ``name(a, b)`` (annotations, defaults and ``-> None`` allowed) into the name and parameter names.

    Raises:
        SyntaxError: the text is not a call-shaped signature.
    """
    text = " ".join(signature.split())
    if text.startswith("def "):
        text = text[len("def ") :]
    text = text.rstrip(":").rstrip()
    tree = ast.parse(f"def {text}: pass")
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    arguments = function.args
    names = [a.arg for a in (*arguments.posonlyargs, *arguments.args)]
    names += [arguments.vararg.arg] if arguments.vararg else []
    names += [a.arg for a in arguments.kwonlyargs]
    names += [arguments.kwarg.arg] if arguments.kwarg else []
    return function.name, names


def check_hooks_documented(markdown: str, hooks: Mapping[str, Sequence[str]], source: str = "hooks.md") -> list[str]:
    """Everything wrong with ``markdown`` as the reference of ``hooks`` (hook name -> parameter names).

    Returns:
        One message per problem, each naming the place in the document; empty when the reference is right.
    """
    errors: list[str] = []
    seen: dict[str, int] = {}
    for section in parse_hook_sections(markdown):
        where = f"{source}:{section.line}"
        name = section.heading
        if not _IDENTIFIER.match(name):
            errors.append(
                f"{where}: heading {'#' * HOOK_HEADING_LEVEL} {name!r} is not a hook name; headings of this "
                "level are reserved for one hook each (use a higher level for other sections)"
            )
            continue
        if name in seen:
            errors.append(f"{where}: hook {name!r} is documented twice (first at line {seen[name]})")
            continue
        seen[name] = section.line
        if name not in hooks:
            errors.append(f"{where}: documents hook {name!r}, but salon.hookspecs has no such hook")
            continue
        expected = f"{name}({', '.join(hooks[name])})"
        if section.signature is None:
            errors.append(f"{where}: section {name!r} has no signature code block; it should start with {expected}")
            continue
        try:
            documented_name, params = signature_parameters(section.signature)
        except SyntaxError:
            found = section.signature.strip().splitlines()[0] if section.signature.strip() else ""
            errors.append(
                f"{where}: the first code block of section {name!r} must be its signature {expected}; found {found!r}"
            )
            continue
        if documented_name != name:
            errors.append(f"{where}: section {name!r} shows the signature of {documented_name!r}; expected {expected}")
        elif params != list(hooks[name]):
            errors.append(
                f"{where}: documented signature {name}({', '.join(params)}) differs from the hookspec {expected}"
            )
    for name in sorted(set(hooks) - set(seen)):
        errors.append(
            f"{source}: hook {name!r} (salon.hookspecs) is not documented; add a section "
            f"'{'#' * HOOK_HEADING_LEVEL} {name}' with its signature {name}({', '.join(hooks[name])})"
        )
    return errors


# --- the real reference -------------------------------------------------------------------------------------


def test_hookspecs_are_found() -> None:
    hooks = hookspec_signatures()
    assert {"register_runtimes", "register_agents", "register_commands", "container_built"} <= set(hooks)
    assert hooks["register_commands"] == ["cli"]


def test_every_hook_is_documented_with_its_signature() -> None:
    assert HOOKS_MD.is_file(), f"{HOOKS_MD.relative_to(ROOT)} is missing: it is the hook reference"
    errors = check_hooks_documented(
        HOOKS_MD.read_text(encoding="utf-8"), hookspec_signatures(), "docs/plugins/hooks.md"
    )
    assert not errors, "the hook reference is out of date:\n  " + "\n  ".join(errors)


def test_python_examples_in_the_reference_compile() -> None:
    """Every ```python block is valid Python, except one-line signatures such as ``register(name, *, ...)``."""
    text = HOOKS_MD.read_text(encoding="utf-8")
    blocks = list(re.finditer(r"^```python\n(.*?)^```", text, re.MULTILINE | re.DOTALL))
    assert len(blocks) >= 2 * len(hookspec_signatures()), "expected a signature and an example per hook"
    for block in blocks:
        code = block.group(1)
        line = text.count("\n", 0, block.start(1)) + 1
        if len(code.strip().splitlines()) == 1:
            try:
                signature_parameters(code)
                continue
            except SyntaxError:
                pass
        try:
            compile(code, "<example>", "exec")
        except SyntaxError as e:
            pytest.fail(f"docs/plugins/hooks.md:{line + (e.lineno or 1) - 1}: the example does not compile: {e.msg}")


# --- the checker can fail -----------------------------------------------------------------------------------


def _drop_section(text: str, hook: str) -> str:
    return re.sub(rf"^### `?{hook}`?\n.*?(?=^##)", "", text, count=1, flags=re.MULTILINE | re.DOTALL)


def _rename_parameter(text: str, hook: str) -> str:
    return text.replace(f"\n{hook}(register)\n", f"\n{hook}(registrar)\n", 1)


def _add_unknown_hook(text: str, hook: str) -> str:
    return text + "\n### register_widgets\n\n```python\nregister_widgets(register)\n```\n"


def _duplicate_section(text: str, hook: str) -> str:
    return text + f"\n### {hook}\n\n```python\n{hook}(register)\n```\n"


def _drop_signature(text: str, hook: str) -> str:
    return text.replace(f"```python\n{hook}(register)\n```\n", "", 1)


def _swap_signature(text: str, hook: str) -> str:
    return text.replace(f"\n{hook}(register)\n", "\nregister_tools(register)\n", 1)


def _bad_heading(text: str, hook: str) -> str:
    return text + "\n### Notes on all hooks\n\nSome prose.\n"


@pytest.mark.parametrize(
    ("break_it", "expected"),
    [
        pytest.param(_drop_section, "hook 'register_agents' (salon.hookspecs) is not documented", id="missing"),
        pytest.param(
            _rename_parameter,
            "documented signature register_agents(registrar) differs from the hookspec",
            id="renamed-parameter",
        ),
        pytest.param(
            _add_unknown_hook, "documents hook 'register_widgets', but salon.hookspecs has no such hook", id="unknown"
        ),
        pytest.param(_duplicate_section, "hook 'register_agents' is documented twice", id="duplicate"),
        pytest.param(
            _drop_signature,
            "the first code block of section 'register_agents' must be its signature",
            id="no-signature",
        ),
        pytest.param(
            _swap_signature, "section 'register_agents' shows the signature of 'register_tools'", id="wrong-signature"
        ),
        pytest.param(_bad_heading, "heading ### 'Notes on all hooks' is not a hook name", id="not-a-hook-heading"),
    ],
)
def test_checker_catches_a_broken_copy(tmp_path: Path, break_it: Callable[[str, str], str], expected: str) -> None:
    original = HOOKS_MD.read_text(encoding="utf-8")
    broken = break_it(original, "register_agents")
    assert broken != original, "the mutation did not apply; update it to the reference's current layout"
    copy = tmp_path / "hooks.md"
    copy.write_text(broken, encoding="utf-8")
    errors = check_hooks_documented(copy.read_text(encoding="utf-8"), hookspec_signatures(), copy.name)
    assert any(expected in error for error in errors), errors


def test_checker_on_a_small_document() -> None:
    hooks = {"alpha": ["register"], "beta": ["runtime"]}
    good = (
        "# Hooks\n\n## Group\n\n"
        "### `alpha`\n\n```python\nalpha(register)\n```\n\n```python\n### not a heading\n```\n\n"
        "### beta\n\n~~~\nbeta(runtime: AgentRuntime) -> None\n~~~\n"
    )
    assert check_hooks_documented(good, hooks) == []

    fenced_only = "```markdown\n### alpha\n\n    alpha(register)\n```\n### beta\n\n```\nbeta(runtime)\n```\n"
    errors = check_hooks_documented(fenced_only, hooks)
    assert errors == [
        "hooks.md: hook 'alpha' (salon.hookspecs) is not documented; add a section '### alpha' with its "
        "signature alpha(register)"
    ]

    reordered = {"alpha": ["register"], "beta": ["runtime", "extra"]}
    assert "differs from the hookspec beta(runtime, extra)" in check_hooks_documented(good, reordered)[0]

    not_a_signature = "### alpha\n\n```\nCall it like this.\n```\n"
    assert (
        "must be its signature alpha(register); found 'Call it like this.'"
        in check_hooks_documented(not_a_signature, {"alpha": ["register"]})[0]
    )


def test_a_section_ends_at_a_higher_heading() -> None:
    """A signature block under the next ``##`` heading does not belong to the previous hook's section."""
    text = "### alpha\n\nNo block here.\n\n## Next part\n\n```python\nalpha(register)\n```\n"
    errors = check_hooks_documented(text, {"alpha": ["register"]})
    assert len(errors) == 1
    assert "has no signature code block" in errors[0]
