"""Salon: AutoGen's agent model on a small, fast kernel.

``from salon import X`` is the port of ``from autogen_core import X``: the same names with the same
meaning. See ``docs/runtime-semantics.md`` for the few deliberate differences.
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._agent import Agent
from ._agent_id import AgentId
from ._agent_instantiation import AgentInstantiationContext
from ._agent_metadata import AgentMetadata
from ._agent_proxy import AgentProxy
from ._agent_runtime import AgentRuntime
from ._agent_type import AgentType
from ._base_agent import BaseAgent, handles, subscription_factory
from ._cancellation_token import CancellationToken
from ._closure_agent import ClosureAgent, ClosureContext
from ._constants import EVENT_LOGGER_NAME, ROOT_LOGGER_NAME, TRACE_LOGGER_NAME
from ._default_subscription import DefaultSubscription, default_subscription, type_subscription
from ._default_topic import DefaultTopicId
from ._function_call import FunctionCall
from ._intervention import DefaultInterventionHandler, DropMessage, InterventionHandler
from ._message_context import MessageContext
from ._message_handler import MessageHandler, event, message_handler, rpc
from ._message_handler_context import MessageHandlerContext
from ._routed_agent import RoutedAgent
from ._runtime_stats import RuntimeStats
from ._serialization import (
    JSON_DATA_CONTENT_TYPE,
    PROTOBUF_DATA_CONTENT_TYPE,
    DataclassJsonMessageSerializer,
    MessageSerializer,
    PydanticJsonMessageSerializer,
    SerializationRegistry,
    UnknownPayload,
    try_get_known_serializers_for_type,
)
from ._single_threaded_agent_runtime import SingleThreadedAgentRuntime
from ._subscription import Subscription
from ._subscription_context import SubscriptionInstantiationContext
from ._topic import TopicId
from ._type_prefix_subscription import TypePrefixSubscription
from ._type_subscription import TypeSubscription

__version__ = "0.1.0"

if TYPE_CHECKING:  # loaded on first use (below), so `import salon` stays free of pluggy and pydantic
    from ._component_dump import dump_component, load_component
    from ._component_registry import ComponentRegistry, ComponentSpec
    from ._config_errors import ConfigError, ConfigProblem
    from ._config_refs import Inline, Ref
    from ._config_schema import config_json_schema
    from ._container import Container
    from ._image import Image
    from ._plugin_manager import PluginManager, PluginRecord
    from .hookspecs import hookimpl

_LAZY: dict[str, tuple[str, str]] = {
    "hookimpl": ("salon.hookspecs", "hookimpl"),
    "PluginManager": ("salon._plugin_manager", "PluginManager"),
    "PluginRecord": ("salon._plugin_manager", "PluginRecord"),
    "ComponentRegistry": ("salon._component_registry", "ComponentRegistry"),
    "ComponentSpec": ("salon._component_registry", "ComponentSpec"),
    "Container": ("salon._container", "Container"),
    "Image": ("salon._image", "Image"),
    "ConfigError": ("salon._config_errors", "ConfigError"),
    "ConfigProblem": ("salon._config_errors", "ConfigProblem"),
    "Ref": ("salon._config_refs", "Ref"),
    "Inline": ("salon._config_refs", "Inline"),
    "dump_component": ("salon._component_dump", "dump_component"),
    "load_component": ("salon._component_dump", "load_component"),
    "config_json_schema": ("salon._config_schema", "config_json_schema"),
}


def __getattr__(name: str) -> Any:
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'salon' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module_name), attribute)
    globals()[name] = value
    return value


__all__ = [
    "Agent",
    "AgentId",
    "AgentInstantiationContext",
    "AgentMetadata",
    "AgentProxy",
    "AgentRuntime",
    "AgentType",
    "BaseAgent",
    "CancellationToken",
    "ComponentRegistry",
    "ComponentSpec",
    "ConfigError",
    "ConfigProblem",
    "Container",
    "ClosureAgent",
    "ClosureContext",
    "DataclassJsonMessageSerializer",
    "DefaultInterventionHandler",
    "DefaultSubscription",
    "DefaultTopicId",
    "DropMessage",
    "EVENT_LOGGER_NAME",
    "FunctionCall",
    "Image",
    "Inline",
    "InterventionHandler",
    "JSON_DATA_CONTENT_TYPE",
    "MessageContext",
    "MessageHandler",
    "MessageHandlerContext",
    "MessageSerializer",
    "PROTOBUF_DATA_CONTENT_TYPE",
    "PluginManager",
    "PluginRecord",
    "PydanticJsonMessageSerializer",
    "ROOT_LOGGER_NAME",
    "Ref",
    "RoutedAgent",
    "RuntimeStats",
    "SerializationRegistry",
    "SingleThreadedAgentRuntime",
    "Subscription",
    "SubscriptionInstantiationContext",
    "TRACE_LOGGER_NAME",
    "TopicId",
    "TypePrefixSubscription",
    "TypeSubscription",
    "UnknownPayload",
    "config_json_schema",
    "default_subscription",
    "dump_component",
    "event",
    "handles",
    "hookimpl",
    "load_component",
    "message_handler",
    "rpc",
    "subscription_factory",
    "try_get_known_serializers_for_type",
    "type_subscription",
]
