"""Test helpers and conformance suites for Salon implementations (plugin authors' toolkit).

Importing this package imports pytest and pytest-asyncio; ``import salon`` never imports it.

- :class:`RuntimeConformanceSuite`: subclass it to run the runtime conformance tests on an
  :class:`~salon.AgentRuntime` implementation.
- :class:`ModelClientConformanceSuite`: subclass it to run the model-client conformance tests on a
  :class:`~salon.models.ChatCompletionClient` implementation.
- :class:`WorkbenchConformanceSuite`: subclass it to run the workbench conformance tests on a
  :class:`~salon.tools.Workbench` implementation (over :func:`conformance_tools`).
- :class:`CacheStoreConformanceSuite`: subclass it to run the cache store conformance tests on a
  :class:`~salon.cache.CacheStore` implementation; :class:`CacheStoreProcessSuite` adds the tests that
  need real processes (answers survive a restart, racing writer processes corrupt nothing).
- :class:`CodeExecutorConformanceSuite`: subclass it to run the code executor conformance tests on a
  :class:`~salon.code_executor.CodeExecutor` implementation.
- :class:`CodeExecutorAttackSuite`: subclass it to run hostile code (network, writes outside the work
  dir, fork bombs, unbounded memory, endless loops and output, leaked secrets, detached daemons) against
  a sandboxing :class:`~salon.code_executor.CodeExecutor`: each attack is stopped, reported, survived.
- :func:`check_plugin_stays_light` and :func:`check_found_through_entry_point`: the two registration
  checks every plugin makes (loading it imports nothing heavy; the installed entry point is found).
- :class:`OpenAIChatServer`: a scripted server speaking OpenAI's chat-completions wire protocol on
  127.0.0.1, for testing clients through the real ``openai`` SDK over real HTTP.
- :class:`AnthropicTestServer`: a scripted Anthropic Messages API server on 127.0.0.1, for testing
  clients through the real ``anthropic`` SDK over real HTTP.
- :class:`RedisServer`: a private ``redis-server`` on a free 127.0.0.1 port (optionally persistent or
  TLS-only), stopped and cleaned up afterwards; a missing binary is a :class:`RedisServerError`, not a skip.
"""

import pytest

# Rewrite the asserts of the suite's modules (as pytest does for test files) so that a failing
# conformance test shows the compared values. Must run before those modules are imported.
pytest.register_assert_rewrite(
    "salon.testing._cache_store_conformance",
    "salon.testing._cache_store_processes",
    "salon.testing._code_executor_attacks",
    "salon.testing._code_executor_conformance",
    "salon.testing._code_executor_harness",
    "salon.testing._workbench_conformance",
    "salon.testing._conformance_delivery",
    "salon.testing._conformance_handler_tasks",
    "salon.testing._conformance_handlers",
    "salon.testing._conformance_interventions",
    "salon.testing._conformance_lifecycle",
    "salon.testing._conformance_robustness",
    "salon.testing._conformance_scheduling",
    "salon.testing._model_client_conformance",
    "salon.testing._runtime_harness",
)

from ._anthropic_server import AnthropicFailure, AnthropicReply, AnthropicRequest, AnthropicTestServer  # noqa: E402
from ._cache_store_conformance import (  # noqa: E402
    CacheStoreConformanceSuite,
    as_cached_value,
    cache_payload,
    check_cache_payload,
)
from ._cache_store_processes import CacheStoreProcessSuite  # noqa: E402
from ._code_executor_attacks import CodeExecutorAttackSuite  # noqa: E402
from ._code_executor_conformance import CodeExecutorConformanceSuite, ExecutorFactory  # noqa: E402
from ._model_client_conformance import ModelClientConformanceSuite, ScriptedReply  # noqa: E402
from ._openai_replies import (  # noqa: E402
    OpenAIErrorReply,
    OpenAIRequest,
    OpenAIServerReply,
    OpenAITextReply,
    OpenAIToolCallsReply,
)
from ._openai_server import OpenAIChatServer  # noqa: E402
from ._plugin_checks import check_found_through_entry_point, check_plugin_stays_light  # noqa: E402
from ._redis_server import RedisServer, RedisServerError, RedisTlsFiles  # noqa: E402
from ._runtime_agents import (  # noqa: E402
    Boom,
    ConformanceError,
    Nap,
    Note,
    Ping,
    Pong,
    ProbeAgent,
    Record,
    Recorder,
    SequentialProbeAgent,
    Wait,
)
from ._runtime_conformance import RuntimeConformanceSuite  # noqa: E402
from ._runtime_harness import (  # noqa: E402
    ConformanceRuntime,
    RuntimeFactory,
    RuntimeHarness,
    RuntimeStatsView,
    assert_stats,
)
from ._workbench_conformance import WorkbenchConformanceSuite, WorkbenchFactory  # noqa: E402
from ._workbench_tools import CONFORMANCE_TOOL_NAMES, ConformanceToolError, conformance_tools  # noqa: E402

__all__ = [
    "CacheStoreConformanceSuite",
    "as_cached_value",
    "CacheStoreProcessSuite",
    "cache_payload",
    "check_cache_payload",
    "AnthropicFailure",
    "AnthropicReply",
    "AnthropicRequest",
    "AnthropicTestServer",
    "CONFORMANCE_TOOL_NAMES",
    "CodeExecutorAttackSuite",
    "CodeExecutorConformanceSuite",
    "ConformanceToolError",
    "ExecutorFactory",
    "WorkbenchConformanceSuite",
    "WorkbenchFactory",
    "conformance_tools",
    "Boom",
    "ConformanceError",
    "ConformanceRuntime",
    "Nap",
    "Note",
    "ModelClientConformanceSuite",
    "OpenAIErrorReply",
    "OpenAIChatServer",
    "OpenAIRequest",
    "OpenAIServerReply",
    "OpenAITextReply",
    "OpenAIToolCallsReply",
    "Ping",
    "Pong",
    "ProbeAgent",
    "Record",
    "Recorder",
    "RedisServer",
    "RedisServerError",
    "RedisTlsFiles",
    "RuntimeConformanceSuite",
    "RuntimeFactory",
    "RuntimeHarness",
    "RuntimeStatsView",
    "ScriptedReply",
    "SequentialProbeAgent",
    "Wait",
    "assert_stats",
    "check_found_through_entry_point",
    "check_plugin_stays_light",
]
