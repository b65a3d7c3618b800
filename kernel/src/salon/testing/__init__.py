"""Test helpers and conformance suites for Salon implementations (plugin authors' toolkit).

Importing this package imports pytest and pytest-asyncio; ``import salon`` never imports it.

- :class:`RuntimeConformanceSuite`: subclass it to run the runtime conformance tests on an
  :class:`~salon.AgentRuntime` implementation.
"""

import pytest

# Rewrite the asserts of the suite's modules (as pytest does for test files) so that a failing
# conformance test shows the compared values. Must run before those modules are imported.
pytest.register_assert_rewrite(
    "salon.testing._conformance_delivery",
    "salon.testing._conformance_handler_tasks",
    "salon.testing._conformance_handlers",
    "salon.testing._conformance_interventions",
    "salon.testing._conformance_lifecycle",
    "salon.testing._conformance_robustness",
    "salon.testing._conformance_scheduling",
    "salon.testing._runtime_harness",
)

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

__all__ = [
    "Boom",
    "ConformanceError",
    "ConformanceRuntime",
    "Nap",
    "Note",
    "Ping",
    "Pong",
    "ProbeAgent",
    "Record",
    "Recorder",
    "RuntimeConformanceSuite",
    "RuntimeFactory",
    "RuntimeHarness",
    "RuntimeStatsView",
    "SequentialProbeAgent",
    "Wait",
    "assert_stats",
]
