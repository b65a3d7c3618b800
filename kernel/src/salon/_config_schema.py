"""A JSON Schema (draft 2020-12) for config files, with every installed plugin's options.

Editors (the YAML language server, VS Code's JSON support) use it for completion and checking while
typing; ``salon config schema`` prints it. Each component kind becomes a ``oneOf`` with one branch per
registered ``use:`` name (``use`` is a ``const``), so an editor knows the options of the component an
entry names. The schema helps typing; the authority is still :class:`~salon.Container`'s check, which
also resolves references and finds cycles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._component_registry import COMPONENT_KINDS, ComponentSpec
from ._config_nodes import component_version
from ._config_refs import INLINE_SCHEMA_KEY, SECTION_KINDS, SINGLE_SECTIONS, kind_label

if TYPE_CHECKING:
    from ._plugin_manager import PluginManager

__all__ = ["config_json_schema", "JSON_SCHEMA_DIALECT"]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_NAME_PATTERN = r"^[\w\-]+$"


def _component_def(kind: str) -> str:
    return f"salon.{kind}"


def _inline_def(kind: str) -> str:
    return f"salon.inline.{kind}"


def config_json_schema(plugin_manager: PluginManager | None = None) -> dict[str, Any]:
    """The JSON Schema of a whole config file, for the components ``plugin_manager`` knows.

    Args:
        plugin_manager: Whose components to describe; default: a new one with every installed plugin.

    Returns:
        A JSON-compatible dict (``json.dumps`` it for editors).
    """
    if plugin_manager is None:
        from ._plugin_manager import PluginManager

        plugin_manager = PluginManager()
    registry = plugin_manager.registry
    specs = sorted(registry, key=lambda spec: (spec.kind, spec.name))
    option_schemas, defs = _option_schemas(specs)
    for kind in COMPONENT_KINDS:
        variants = [
            _variant(spec, option_schemas.get((spec.kind, spec.name), {})) for spec in specs if spec.kind == kind
        ]
        defs[_component_def(kind)] = (
            {"oneOf": variants}
            if variants
            else {"not": {}, "description": f"No {kind_label(kind)} is installed; install a plugin that provides one."}
        )
        defs[_inline_def(kind)] = _inline_schema(kind)
    properties: dict[str, Any] = {"plugins": _plugins_schema()}
    properties["runtime"] = {"$ref": f"#/$defs/{_component_def('runtime')}", "description": "The agent runtime."}
    for section, kind in SECTION_KINDS.items():
        properties[section] = {
            "type": "object",
            "description": f"{kind_label(kind).capitalize()}s by name; other components refer to them by that name.",
            "propertyNames": {"pattern": _NAME_PATTERN},
            "additionalProperties": {"$ref": f"#/$defs/{_component_def(kind)}"},
        }
    properties["team"] = {"$ref": f"#/$defs/{_component_def(SINGLE_SECTIONS['team'])}", "description": "The team."}
    schema: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": "Salon config",
        "description": "Components composed by name (use:) with options; see docs/configuration.md.",
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
        "$defs": defs,
    }
    return _resolve_inline_marks(schema)  # type: ignore[no-any-return]


def _option_schemas(specs: list[ComponentSpec]) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[str, Any]]:
    """Each component's options schema, with the pydantic models' shared ``$defs``."""
    from pydantic.json_schema import models_json_schema

    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    models: dict[tuple[str, str], Any] = {}
    for spec in specs:
        key = (spec.kind, spec.name)
        try:
            model = spec.options_model
        except Exception as e:
            schemas[key] = {"type": "object", "description": f"Options schema unavailable: {type(e).__name__}: {e}"}
            continue
        if model is None:
            schemas[key] = {"type": "object", "maxProperties": 0, "description": "This component takes no options."}
            continue
        try:
            model.model_json_schema()
        except Exception as e:
            schemas[key] = {"type": "object", "description": f"Options schema unavailable: {type(e).__name__}"}
            continue
        models[key] = model
    unique = list(dict.fromkeys(models.values()))
    defs: dict[str, Any] = {}
    if unique:
        mapping, top = models_json_schema([(model, "validation") for model in unique], ref_template="#/$defs/{model}")
        defs.update(top.get("$defs", {}))
        for key, model in models.items():
            schemas[key] = mapping[(model, "validation")]
    return schemas, defs


def _variant(spec: ComponentSpec, options: dict[str, Any]) -> dict[str, Any]:
    use: dict[str, Any] = {"const": spec.name}
    if spec.description:
        use["description"] = spec.description
    properties: dict[str, Any] = {
        "use": use,
        "version": {"type": "integer", "minimum": 1, "maximum": component_version(spec)},
        "options": options,
    }
    if spec.kind == "model_client":
        properties["cache"] = {"type": "string", "description": "The name of a cache store defined under cache_stores."}
    return {
        "type": "object",
        "title": f"{spec.name} ({spec.distribution or spec.plugin})",
        "properties": properties,
        "required": ["use"],
        "additionalProperties": False,
    }


def _inline_schema(kind: str) -> dict[str, Any]:
    branches: list[dict[str, Any]] = [{"$ref": f"#/$defs/{_component_def(kind)}"}]
    for op, meaning in (("any", "stops when any of them does (|)"), ("all", "stops when all of them have (&)")):
        branches.append(
            {
                "type": "object",
                "description": f"Combines inline {kind_label(kind)}s: {meaning}.",
                "properties": {op: {"type": "array", "minItems": 1, "items": {"$ref": f"#/$defs/{_inline_def(kind)}"}}},
                "required": [op],
                "additionalProperties": False,
            }
        )
    return {"oneOf": branches}


def _plugins_schema() -> dict[str, Any]:
    names = {"type": "array", "items": {"type": "string", "minLength": 1}}
    return {
        "description": "Which installed plugins load (default: all), and the project's own plugin files.",
        "oneOf": [
            names,
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "load": names,
                    "local": {
                        "type": "array",
                        "description": "Python files relative to this config file, loaded like pytest's conftest.py.",
                        "items": {"type": "string", "pattern": r"\.py$"},
                    },
                },
            },
        ],
    }


def _resolve_inline_marks(value: Any) -> Any:
    """Replace each ``x-salon-inline`` mark left by :class:`~salon.Inline` with a reference to its schema."""
    if isinstance(value, dict):
        resolved = {key: _resolve_inline_marks(item) for key, item in value.items() if key != INLINE_SCHEMA_KEY}
        kind = value.get(INLINE_SCHEMA_KEY)
        if isinstance(kind, str):
            resolved["$ref"] = f"#/$defs/{_inline_def(kind)}"
        return resolved
    if isinstance(value, list):
        return [_resolve_inline_marks(item) for item in value]
    return value
