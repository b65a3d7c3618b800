"""config_json_schema: a draft 2020-12 schema of the whole file with every installed plugin's options."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from test_config_support import base_config, make_pm

from salon._config_schema import config_json_schema

jsonschema = pytest.importorskip("jsonschema")


def _validator() -> Any:
    schema = config_json_schema(make_pm())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_schema_is_valid_draft_2020_12_and_json() -> None:
    schema = config_json_schema(make_pm())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    assert json.loads(json.dumps(schema)) == schema
    assert "x-salon-inline" not in json.dumps(schema)


def test_a_valid_config_validates() -> None:
    assert list(_validator().iter_errors(base_config())) == []


def test_each_kind_is_a_oneof_by_use_const_with_the_plugin_options() -> None:
    schema = config_json_schema(make_pm())
    agents = schema["$defs"]["salon.agent"]["oneOf"]
    assert [variant["properties"]["use"]["const"] for variant in agents] == ["helper", "note"]
    helper_options = agents[0]["properties"]["options"]
    resolved = schema["$defs"][helper_options["$ref"].rsplit("/", 1)[1]]
    assert set(resolved["properties"]) == {"model_client", "system_message", "peers", "tools"}
    assert resolved["properties"]["model_client"]["x-salon-ref"] == "model_client"
    memory = schema["$defs"]["salon.cache_store"]["oneOf"][0]
    no_options = schema["$defs"][memory["properties"]["options"]["$ref"].rsplit("/", 1)[1]]
    assert no_options["additionalProperties"] is False and no_options["properties"] == {}
    assert "cache" in schema["$defs"]["salon.model_client"]["oneOf"][0]["properties"]
    assert schema["$defs"]["salon.workbench"]["not"] == {}  # nothing installed: no entry can be valid


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d["agents"]["writer"].update(use="nope"),
        lambda d: d["agents"]["writer"]["options"].update(extra_option=1),
        lambda d: d["model_clients"]["gpt"]["options"].update(temperature="hot"),
        lambda d: d["team"]["options"]["termination"]["any"][0]["options"].update(max_messages="x"),
        lambda d: d["team"]["options"].update(termination={"any": []}),
        lambda d: d.update(unknown_section={}),
        lambda d: d.update(plugins={"local": ["tools.module"]}),
    ],
)
def test_invalid_configs_do_not_validate(mutate: Any) -> None:
    data = copy.deepcopy(base_config())
    mutate(data)
    assert list(_validator().iter_errors(data))


def test_inline_termination_is_recursive() -> None:
    data = base_config()
    data["team"]["options"]["termination"] = {
        "all": [
            {"any": [{"use": "text_mention", "options": {"text": "A"}}]},
            {"use": "max_messages", "options": {"max_messages": 2}},
        ]
    }
    assert list(_validator().iter_errors(data)) == []


def test_default_plugin_manager_describes_the_installed_plugins() -> None:
    schema = config_json_schema()
    uses = [v["properties"]["use"]["const"] for v in schema["$defs"]["salon.runtime"]["oneOf"]]
    assert "local" in uses
