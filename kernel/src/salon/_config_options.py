"""Validating one component's ``options:`` with its registered pydantic model, in the config's words.

Pydantic's ``ValidationError`` is turned into one problem per wrong option: the location is cut back to
what the config actually wrote (pydantic adds union member names and the like), messages for the same
option are merged ("a valid integer or a valid string"), and the value found is shown as its
``${...}`` template when it came from the environment. Unknown option names are checked before pydantic
sees them, whatever the model's ``extra`` setting, so a typo is never silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._component_registry import ComponentSpec
from ._config_errors import Path, Problems, did_you_mean
from ._config_refs import kind_label

__all__ = ["validate_options", "MASKED_SECRET"]

#: What pydantic writes for a ``SecretStr`` it dumps; loading it back would use the mask as the secret.
MASKED_SECRET = "**********"
_MISSING = object()


def validate_options(spec: ComponentSpec, raw: Any, path: Path, problems: Problems) -> tuple[bool, Any]:
    """Validate ``raw`` (the ``options:`` value at ``path``) for ``spec``.

    Returns:
        ``(ok, options)``: the validated model instance (``None`` for a component without options), and
        whether it validated; problems are recorded in ``problems``.
    """
    label = f"{kind_label(spec.kind)} {spec.name!r}"
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        problems.add(path, f"the options of {label} as a mapping", problems.found(path, raw))
        return False, None
    try:
        model = spec.options_model
    except Exception as e:
        problems.add(path, f"the options model of {label} to load", f"{type(e).__name__}: {e}", _install_hint(spec))
        problems.causes.append(e)
        return False, None
    if model is None:
        if raw:
            key = next(iter(raw))
            problems.add((*path, str(key)), f"no options ({label} takes none)", f"the option {key!r}")
            return False, None
        return True, None
    if not (isinstance(model, type) and hasattr(model, "model_validate") and hasattr(model, "model_fields")):
        problems.add(path, f"a pydantic model for the options of {label}", f"{model!r} (a bug in {spec.plugin})")
        return False, None
    if not _known_keys(model, raw, path, problems, label):
        return False, None
    from pydantic import ValidationError

    try:
        options = model.model_validate(dict(raw))
    except ValidationError as e:
        _report(e, raw, path, problems)
        problems.causes.append(e)
        return False, None
    masked = _masked_secret(options, ())
    if masked is not None:
        problems.add(
            (*path, *masked),
            "the secret itself, or ${NAME} to read it from the environment",
            f"the mask {MASKED_SECRET!r} (dumps never hold secrets; give it again when loading)",
        )
        return False, None
    return True, options


def _install_hint(spec: ComponentSpec) -> str:
    return f"It is provided by {spec.distribution or spec.plugin}; reinstall it with its dependencies"


def _known_keys(model: Any, raw: Mapping[Any, Any], path: Path, problems: Problems, label: str) -> bool:
    if model.model_config.get("extra") == "allow":
        return True
    allowed: list[str] = []
    for name, info in model.model_fields.items():
        allowed.append(name)
        for alias in (info.alias, info.validation_alias):
            if isinstance(alias, str):
                allowed.append(alias)
    unknown = [key for key in raw if key not in allowed]
    public = sorted(dict.fromkeys(name for name in allowed if not name.startswith("_")))
    for key in unknown:
        listed = ", ".join(public) if public else "none"
        problems.add(
            (*path, str(key)),
            f"one of the options of {label} ({listed})",
            f"the unknown option {key!r}",
            did_you_mean(key, public),
        )
    return not unknown


def _report(error: Any, raw: Mapping[Any, Any], path: Path, problems: Problems) -> None:
    grouped: dict[Path, list[str]] = {}
    for detail in error.errors(include_url=False):
        location = _written_location(raw, tuple(detail["loc"]), detail["type"])
        messages = grouped.setdefault(location, [])
        expected = _expected(detail)
        if expected not in messages:
            messages.append(expected)
    for location, messages in grouped.items():
        value = _value_at(raw, location)
        full = (*path, *location)
        found = "nothing" if value is _MISSING else problems.found(full, value)
        problems.add(full, " or ".join(messages), found)


def _written_location(raw: Any, loc: tuple[Any, ...], error_type: str) -> Path:
    """The longest prefix of ``loc`` that exists in what the config wrote (plus a missing key's name)."""
    location: list[str | int] = []
    current = raw
    for part in loc:
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, Mapping) and str(part) in current:
            part, current = str(part), current[str(part)]
        elif isinstance(current, list | tuple) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]
        else:
            if error_type == "missing" and isinstance(current, Mapping) and part == loc[-1]:
                location.append(str(part))
            break
        location.append(part if isinstance(part, int) else str(part))
    return tuple(location)


def _value_at(raw: Any, location: Path) -> Any:
    current = raw
    for part in location:
        in_mapping = isinstance(current, Mapping) and part in current
        in_list = isinstance(current, list | tuple) and isinstance(part, int) and 0 <= part < len(current)
        if not (in_mapping or in_list):
            return _MISSING
        current = current[part]
    return current


def _expected(detail: Mapping[str, Any]) -> str:
    message = str(detail["msg"])
    kind = detail["type"]
    if kind == "missing":
        return "a value for this required option"
    if kind == "extra_forbidden":
        return "no option of this name (it is unknown)"
    for prefix in ("Input should be ", "input should be "):
        if message.startswith(prefix):
            return message[len(prefix) :]
    if message.startswith("Value error, "):
        return "a valid value: " + message[len("Value error, ") :]
    if message.startswith("Assertion failed, "):
        return "a valid value: " + message[len("Assertion failed, ") :]
    return message[:1].lower() + message[1:]


def _masked_secret(value: Any, path: Path) -> Path | None:
    """The path of the first ``SecretStr``/``SecretBytes`` whose value is the dump mask, if any."""
    from pydantic import BaseModel, SecretBytes, SecretStr

    if isinstance(value, SecretStr):
        return path if value.get_secret_value() == MASKED_SECRET else None
    if isinstance(value, SecretBytes):
        return path if value.get_secret_value() == MASKED_SECRET.encode() else None
    if isinstance(value, BaseModel):
        items: Any = ((name, getattr(value, name, None)) for name in type(value).model_fields)
    elif isinstance(value, Mapping):
        items = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _masked_secret(item, (*path, key if isinstance(key, int) else str(key)))
        if found is not None:
            return found
    return None
