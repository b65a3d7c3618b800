"""Behaviour specific to SingleThreadedAgentRuntime (beyond the conformance suite)."""

from __future__ import annotations

import asyncio
import itertools
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from salon import (
    AgentId,
    AgentInstantiationContext,
    AgentRuntime,
    ClosureAgent,
    ClosureContext,
    DefaultInterventionHandler,
    DropMessage,
    MessageContext,
    RoutedAgent,
    SingleThreadedAgentRuntime,
    TopicId,
    TypeSubscription,
    message_handler,
)
from salon.exceptions import UndeliverableException
from salon.testing import Boom, ConformanceError, Note, Ping, Pong, ProbeAgent, Recorder, Wait

TIMEOUT = 5


async def bounded(awaitable: Any) -> Any:
    async with asyncio.timeout(TIMEOUT):
        return await awaitable


async def until(condition: Any) -> None:
    async with asyncio.timeout(TIMEOUT):
        for _ in itertools.count():
            if condition():
                return
            await asyncio.sleep(0.001)


async def probe_runtime(rec: Recorder, **kwargs: Any) -> SingleThreadedAgentRuntime:
    runtime = SingleThreadedAgentRuntime(**kwargs)
    await ProbeAgent.register(runtime, "probe", lambda: ProbeAgent(rec))
    await runtime.add_subscription(TypeSubscription("t", "probe"))
    return runtime


# -- lifecycle errors ---------------------------------------------------------------------------------


async def test_start_twice_and_stop_when_not_started_raise() -> None:
    """As in AutoGen: ``start()`` on a running runtime and stopping a stopped one raise RuntimeError."""
    runtime = SingleThreadedAgentRuntime()
    with pytest.raises(RuntimeError):
        await runtime.stop()
    with pytest.raises(RuntimeError):
        await runtime.stop_when_idle()
    runtime.start()
    with pytest.raises(RuntimeError):
        runtime.start()
    await bounded(runtime.stop())
    await runtime.close()


async def test_runtime_satisfies_the_protocol() -> None:
    assert isinstance(SingleThreadedAgentRuntime(), AgentRuntime)


async def test_stop_fails_discarded_rpcs_instead_of_leaving_callers_waiting() -> None:
    """Salon: an RPC still queued when ``stop()`` discards the queue fails with UndeliverableException
    (AutoGen leaves its caller waiting forever); the discarded messages count as dropped."""
    rec = Recorder()
    runtime = await probe_runtime(rec)
    call = asyncio.ensure_future(runtime.send_message(Ping("late"), AgentId("probe", "k")))
    await asyncio.sleep(0)  # the envelope is queued; the runtime is not started
    await runtime.publish_message(Note("late too"), TopicId("t", "k"))
    assert runtime.stats().queued_messages == 2
    runtime.start()
    await bounded(runtime.stop())  # before the dispatcher's first turn
    with pytest.raises(UndeliverableException):
        await bounded(call)
    assert rec.records == []
    stats = runtime.stats()
    assert stats.queued_messages == 0
    assert stats.dropped_messages == 2
    assert stats.running is False


async def test_publish_errors_surface_from_stop_when_not_ignored() -> None:
    """``ignore_unhandled_exceptions=False``: the publish handler's error is raised by ``stop()`` too, once."""
    runtime = await probe_runtime(Recorder(), ignore_unhandled_exceptions=False)
    runtime.start()
    await runtime.publish_message(Boom("from stop"), TopicId("t", "k"))
    await asyncio.sleep(0.01)
    with pytest.raises(ConformanceError, match="from stop"):
        await bounded(runtime.stop())
    runtime.start()
    await bounded(runtime.stop_when_idle())  # reported once, not again


async def test_rpc_errors_do_not_surface_from_stop() -> None:
    """RPC handler errors go to the caller only, whatever ``ignore_unhandled_exceptions`` says (AutoGen)."""
    runtime = await probe_runtime(Recorder(), ignore_unhandled_exceptions=False)
    runtime.start()
    with pytest.raises(ConformanceError):
        await bounded(runtime.send_message(Boom("rpc"), AgentId("probe", "k")))
    await bounded(runtime.stop_when_idle())


async def test_stop_when_sees_conditions_without_polling_delay() -> None:
    """``stop_when`` re-checks its condition as handlers finish, so it returns long before ``check_period``."""
    rec = Recorder()
    runtime = await probe_runtime(rec)
    runtime.start()
    await runtime.publish_message(Note("n"), TopicId("t", "k"))
    await bounded(runtime.stop_when(lambda: rec.texts("note") == ["n"], check_period=3600))


async def test_process_next_steps_a_stopped_runtime() -> None:
    """``process_next()`` dispatches one queued envelope of a runtime that is not started (AutoGen has it)."""
    rec = Recorder()
    runtime = await probe_runtime(rec)
    await runtime.publish_message(Note("1"), TopicId("t", "k"))
    await runtime.publish_message(Note("2"), TopicId("t", "k"))
    await runtime.process_next()
    assert rec.texts("note") == ["1"]
    await runtime.process_next()
    assert rec.texts("note") == ["1", "2"]
    runtime.start()
    with pytest.raises(RuntimeError):
        await runtime.process_next()
    await bounded(runtime.stop())


# -- cancellation -------------------------------------------------------------------------------------


async def test_cancelling_the_token_cancels_a_waiting_handler() -> None:
    """Salon: cancelling the token also cancels the handler itself where it waits (the CancellationToken
    contract), so it does not linger after its caller gave up; AutoGen only cancels the caller's future."""
    rec = Recorder()
    runtime = await probe_runtime(rec)
    runtime.start()
    from salon import CancellationToken

    token = CancellationToken()
    call = asyncio.ensure_future(runtime.send_message(Wait("g"), AgentId("probe", "k"), cancellation_token=token))
    await until(lambda: rec.texts("waiting") == ["g"])
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await bounded(call)
    await bounded(runtime.stop_when_idle())  # the gate was never opened: the handler must have been cancelled
    assert rec.texts("passed") == []
    assert runtime.stats().in_flight_messages == 0


# -- factories and registration -----------------------------------------------------------------------


async def test_two_argument_factory_is_deprecated_but_works() -> None:
    """AutoGen's deprecated ``(runtime, agent_id)`` factories still work, with a DeprecationWarning."""
    runtime = SingleThreadedAgentRuntime()
    seen: list[AgentId] = []

    def old_factory(rt: AgentRuntime, agent_id: AgentId) -> ProbeAgent:
        assert rt is runtime
        seen.append(agent_id)
        return ProbeAgent(Recorder())

    with pytest.warns(DeprecationWarning, match="deprecated"):
        await ProbeAgent.register(runtime, "old", old_factory)  # type: ignore[arg-type]
    runtime.start()
    assert await bounded(runtime.send_message(Ping("x"), AgentId("old", "k"))) == Pong("x")
    assert seen == [AgentId("old", "k")]
    await bounded(runtime.stop())


async def test_factory_with_wrong_arity_is_refused_at_registration() -> None:
    runtime = SingleThreadedAgentRuntime()
    with pytest.raises(TypeError, match="bad_factory"):
        await runtime.register_factory("bad_factory", lambda a: ProbeAgent(Recorder()))  # type: ignore[arg-type,misc]


async def test_factory_returning_the_wrong_class_fails_the_call() -> None:
    """``register(..., expected_class=cls)`` checks what the factory returns; the caller gets TypeError."""
    runtime = SingleThreadedAgentRuntime()

    class Other(RoutedAgent):
        def __init__(self) -> None:
            super().__init__("other")

    await ProbeAgent.register(runtime, "probe", Other)  # type: ignore[arg-type]
    runtime.start()
    with pytest.raises(TypeError, match="Other"):
        await bounded(runtime.send_message(Ping("x"), AgentId("probe", "k")))
    await bounded(runtime.stop_when_idle())


async def test_async_factory_runs_once_per_key_under_concurrent_messages() -> None:
    """Messages that arrive while an async factory is still running wait for the same instance."""
    runtime = SingleThreadedAgentRuntime()
    rec = Recorder()
    calls: list[AgentId] = []

    async def slow_factory() -> ProbeAgent:
        calls.append(AgentInstantiationContext.current_agent_id())
        agent = ProbeAgent(rec)
        await asyncio.sleep(0.01)
        return agent

    await ProbeAgent.register(runtime, "probe", slow_factory)
    runtime.start()
    answers = await bounded(
        asyncio.gather(*(runtime.send_message(Ping(str(i)), AgentId("probe", "k")) for i in range(5)))
    )
    assert answers == [Pong(str(i)) for i in range(5)]
    assert calls == [AgentId("probe", "k")]
    await bounded(runtime.stop_when_idle())


async def test_register_agent_instance_refusals() -> None:
    """An id registered twice, a factory type, or another class under the same type are refused."""
    runtime = SingleThreadedAgentRuntime()
    await ProbeAgent.register(runtime, "factory_type", lambda: ProbeAgent(Recorder()))
    await runtime.register_agent_instance(ProbeAgent(Recorder()), AgentId("inst", "1"))
    await runtime.register_agent_instance(ProbeAgent(Recorder()), AgentId("inst", "2"))
    with pytest.raises(ValueError, match="inst/1"):
        await runtime.register_agent_instance(ProbeAgent(Recorder()), AgentId("inst", "1"))
    with pytest.raises(ValueError, match="factory_type"):
        await runtime.register_agent_instance(ProbeAgent(Recorder()), AgentId("factory_type", "x"))

    class Different(ProbeAgent):
        pass

    with pytest.raises(ValueError, match="Different"):
        await runtime.register_agent_instance(Different(Recorder()), AgentId("inst", "3"))


async def test_message_to_an_unregistered_key_of_an_instance_type_fails() -> None:
    """A type registered by instances has no factory: another key fails with LookupError at the caller."""
    runtime = SingleThreadedAgentRuntime()
    await runtime.register_agent_instance(ProbeAgent(Recorder()), AgentId("inst", "1"))
    runtime.start()
    with pytest.raises(LookupError, match="inst/2"):
        await bounded(runtime.send_message(Ping("x"), AgentId("inst", "2")))
    await bounded(runtime.stop_when_idle())


# -- state ---------------------------------------------------------------------------------------------


async def test_load_state_accepts_autogen_style_agent_maps() -> None:
    """AutoGen's ``save_state`` is ``{"type/key": agent_state}``; Salon's ``load_state`` takes that too."""
    runtime = SingleThreadedAgentRuntime()
    await ProbeAgent.register(runtime, "probe", lambda: ProbeAgent(Recorder()))
    await runtime.load_state({"probe/a": {"count": 7}, "unknown_type/b": {"count": 1}})
    assert await runtime.agent_save_state(AgentId("probe", "a")) == {"count": 7}


async def test_save_state_refuses_a_queued_message_it_cannot_serialize() -> None:
    """A queued publish with no serializer makes ``save_state`` fail with an error naming the type
    (instead of silently losing the message)."""

    class Opaque:
        pass

    runtime = SingleThreadedAgentRuntime()
    await runtime.publish_message(Opaque(), TopicId("t", "k"))
    with pytest.raises(ValueError, match="Opaque"):
        await runtime.save_state()


# -- interventions -------------------------------------------------------------------------------------


async def test_a_waiting_intervention_keeps_fifo_order() -> None:
    """Intervention handlers that wait hold the queue, so deliveries keep the order of the messages."""

    class Slow(DefaultInterventionHandler):
        async def on_publish(self, message: Any, *, message_context: MessageContext) -> Any:
            if message.text == "0":
                await asyncio.sleep(0.02)
            return message

    rec = Recorder()
    runtime = await probe_runtime(rec, intervention_handlers=[Slow()])
    runtime.start()
    for i in range(5):
        await runtime.publish_message(Note(str(i)), TopicId("t", "k"))
    await bounded(runtime.stop_when_idle())
    assert rec.texts("note") == ["0", "1", "2", "3", "4"]


async def test_drop_counts_in_stats() -> None:
    class DropAll(DefaultInterventionHandler):
        async def on_publish(self, message: Any, *, message_context: MessageContext) -> Any:
            return DropMessage

    runtime = await probe_runtime(Recorder(), intervention_handlers=[DropAll()])
    runtime.start()
    await runtime.publish_message(Note("x"), TopicId("t", "k"))
    await bounded(runtime.stop_when_idle())
    assert runtime.stats().dropped_messages == 1
    assert runtime.stats().handled_messages == 0


async def test_intervention_returning_none_warns() -> None:
    """AutoGen 0.7.5 issues a RuntimeWarning when an intervention handler returns None (checked against
    /tmp/agref: it warns, then delivers ``None`` in place of the message, although its docs say "treated
    as no change"). This pins the warning only; what is delivered is left to the docs."""

    class Forgetful(DefaultInterventionHandler):
        async def on_publish(self, message: Any, *, message_context: MessageContext) -> Any:
            return None

    rec = Recorder()
    runtime = await probe_runtime(rec, intervention_handlers=[Forgetful()])
    runtime.start()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await runtime.publish_message(Note("kept"), TopicId("t", "k"))
        await bounded(runtime.stop_when_idle())
    assert any(issubclass(w.category, RuntimeWarning) and "None" in str(w.message) for w in caught)


# -- handlers ------------------------------------------------------------------------------------------


@dataclass
class Count:
    n: int


class Counter(RoutedAgent):
    def __init__(self) -> None:
        super().__init__("counter")
        self.total = 0

    @message_handler
    async def on_count(self, message: Count, ctx: MessageContext) -> int:
        self.total += message.n
        return self.total

    async def save_state(self) -> Mapping[str, Any]:
        return {"total": self.total}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self.total = state["total"]


async def test_many_agents_and_messages() -> None:
    """A smoke test at some scale: 200 agents x 20 messages, all answered, counts right."""
    runtime = SingleThreadedAgentRuntime()
    await Counter.register(runtime, "counter", Counter)
    runtime.start()
    calls = [runtime.send_message(Count(1), AgentId("counter", str(i % 200))) for i in range(4000)]
    results = await bounded(asyncio.gather(*calls))
    assert sorted(results)[-1] == 20
    for key in ("0", "199"):
        assert await runtime.agent_save_state(AgentId("counter", key)) == {"total": 20}
    stats = runtime.stats()
    assert stats.live_agents == 200
    assert stats.handled_messages == 4000
    await bounded(runtime.stop_when_idle())


async def test_closure_unknown_type_policy_error_fails_the_rpc() -> None:
    """``unknown_type_policy="error"``: a message the closure does not take fails the RPC."""
    runtime = SingleThreadedAgentRuntime()

    async def only_notes(ctx: ClosureContext, message: Note, mctx: MessageContext) -> str:
        return message.text

    await ClosureAgent.register_closure(runtime, "closure", only_notes, unknown_type_policy="error")
    runtime.start()
    from salon.exceptions import CantHandleException

    with pytest.raises(CantHandleException):
        await bounded(runtime.send_message(Ping("x"), AgentId("closure", "k")))
    assert await bounded(runtime.send_message(Note("y"), AgentId("closure", "k"))) == "y"
    await bounded(runtime.stop_when_idle())
