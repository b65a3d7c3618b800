"""The runtime agent that stands for one participant (a chat agent or a whole team) inside a group chat."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from salon import MessageContext, TopicId, event, rpc

from ..base import ChatAgent, Response, TaskResult, Team
from ..messages import BaseAgentEvent, BaseChatMessage, MessageFactory
from ..state import ChatAgentContainerState
from ._events import (
    GroupChatAgentResponse,
    GroupChatError,
    GroupChatMessage,
    GroupChatPause,
    GroupChatRequestPublish,
    GroupChatReset,
    GroupChatResume,
    GroupChatStart,
    GroupChatTeamResponse,
    SerializableException,
)
from ._sequential_routed_agent import SequentialRoutedAgent

__all__ = ["ChatAgentContainer"]


class ChatAgentContainer(SequentialRoutedAgent):
    """Buffers what the group says and, when asked to speak, runs its participant on the buffer.

    The participant's intermediate events and final message go to the team's output topic (for the run's
    stream); its response goes to the manager's topic, which every participant also reads. A failure is
    reported to the manager as a :class:`GroupChatError` (which ends the run with that error) instead of
    escaping into the runtime, so the run's caller gets it once, with its type.

    Args:
        parent_topic_type: The topic type of the group (the manager and all participants read it).
        output_topic_type: The topic type of the team's output stream.
        agent: The participant: a chat agent or a team.
        message_factory: Knows the team's message types (built-in and custom).
    """

    def __init__(
        self, parent_topic_type: str, output_topic_type: str, agent: ChatAgent | Team, message_factory: MessageFactory
    ) -> None:
        super().__init__(
            description=agent.description,
            sequential_message_types=[
                GroupChatStart,
                GroupChatRequestPublish,
                GroupChatReset,
                GroupChatAgentResponse,
                GroupChatTeamResponse,
            ],
        )
        self._parent_topic_type = parent_topic_type
        self._output_topic_type = output_topic_type
        # Built once; the source is the team id (this agent's key), as DefaultTopicId would pick in a handler.
        self._parent_topic = TopicId(parent_topic_type, self.id.key)
        self._output_topic = TopicId(output_topic_type, self.id.key)
        self._agent = agent
        self._is_team = isinstance(agent, Team)
        self._message_buffer: list[BaseChatMessage] = []
        self._message_factory = message_factory

    @event
    async def handle_start(self, message: GroupChatStart, ctx: MessageContext) -> None:
        """Buffer the task's messages."""
        if message.messages is not None:
            for msg in message.messages:
                self._buffer_message(msg)

    @event
    async def handle_agent_response(self, message: GroupChatAgentResponse, ctx: MessageContext) -> None:
        """Buffer another participant's chat message."""
        self._buffer_message(message.response.chat_message)

    @event
    async def handle_team_response(self, message: GroupChatTeamResponse, ctx: MessageContext) -> None:
        """Buffer the chat messages of a participant team's result."""
        for msg in message.result.messages:
            if isinstance(msg, BaseChatMessage):
                self._buffer_message(msg)

    @rpc
    async def handle_reset(self, message: GroupChatReset, ctx: MessageContext) -> None:
        """Forget the buffer and reset the participant."""
        self._message_buffer.clear()
        if isinstance(self._agent, Team):
            await self._agent.reset()
        else:
            await self._agent.on_reset(ctx.cancellation_token)

    @event
    async def handle_request(self, message: GroupChatRequestPublish, ctx: MessageContext) -> None:
        """Speak: run the participant on the buffer and publish what it says."""
        token = ctx.cancellation_token
        try:
            response: GroupChatAgentResponse | GroupChatTeamResponse
            if self._is_team:
                response = await self._run_team(ctx)
            else:
                response = await self._run_agent(ctx)
        except Exception as e:
            await self.publish_message(
                GroupChatError(error=SerializableException.from_exception(e)),
                topic_id=self._parent_topic,
                cancellation_token=token,
            )
            return
        self._message_buffer.clear()
        await self.publish_message(response, topic_id=self._parent_topic, cancellation_token=token)

    async def _run_agent(self, ctx: MessageContext) -> GroupChatAgentResponse:
        agent = self._agent
        assert isinstance(agent, ChatAgent)
        response: Response | None = None
        async for item in agent.on_messages_stream(self._message_buffer, ctx.cancellation_token):
            if isinstance(item, Response):
                await self._log_message(item.chat_message)
                response = item
            else:
                await self._log_message(item)
        if response is None:
            raise RuntimeError(
                f"Agent {agent.name!r} finished its on_messages_stream without yielding a Response; "
                "the last item of the stream must be the agent's Response."
            )
        return GroupChatAgentResponse(response=response, name=agent.name)

    async def _run_team(self, ctx: MessageContext) -> GroupChatTeamResponse:
        team = self._agent
        assert isinstance(team, Team)
        result: TaskResult | None = None
        async for item in team.run_stream(
            task=self._message_buffer, cancellation_token=ctx.cancellation_token, output_task_messages=False
        ):
            if isinstance(item, TaskResult):
                result = item
            else:
                await self._log_message(item)
        if result is None:
            raise RuntimeError(
                f"Team {team.name!r} finished its run_stream without yielding a TaskResult; the last item of the "
                "stream must be the team's TaskResult."
            )
        return GroupChatTeamResponse(result=result, name=team.name)

    def _buffer_message(self, message: BaseChatMessage) -> None:
        if not self._message_factory.is_registered(message.__class__):
            raise ValueError(_unregistered(message))
        self._message_buffer.append(message)

    async def _log_message(self, message: BaseAgentEvent | BaseChatMessage) -> None:
        if not self._message_factory.is_registered(message.__class__):
            raise ValueError(_unregistered(message))
        await self.publish_message(GroupChatMessage(message=message), topic_id=self._output_topic)

    @event
    async def handle_group_chat_error(self, message: GroupChatError, ctx: MessageContext) -> None:
        """Another participant failed; the manager ends the run, so there is nothing to do here."""

    @rpc
    async def handle_pause(self, message: GroupChatPause, ctx: MessageContext) -> None:
        """Pause the participant (a no-op unless it implements pausing)."""
        if isinstance(self._agent, Team):
            await self._agent.pause()
        else:
            await self._agent.on_pause(ctx.cancellation_token)

    @rpc
    async def handle_resume(self, message: GroupChatResume, ctx: MessageContext) -> None:
        """Resume the participant after a pause."""
        if isinstance(self._agent, Team):
            await self._agent.resume()
        else:
            await self._agent.on_resume(ctx.cancellation_token)

    async def on_unhandled_message(self, message: Any, ctx: MessageContext) -> None:
        """Refuse anything that is not a group-chat event: it means two teams' topics got crossed."""
        raise ValueError(
            f"ChatAgentContainer for {self._agent.name!r} got a {type(message).__name__}, which is not a "
            "group-chat event; nothing but the team's manager and containers should use the team's topics."
        )

    async def save_state(self) -> Mapping[str, Any]:
        """The participant's state and the messages it has not seen yet."""
        state = ChatAgentContainerState(
            agent_state=await self._agent.save_state(),
            message_buffer=[message.dump() for message in self._message_buffer],
        )
        return state.model_dump()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`save_state`'s output (the participant's state and the buffer)."""
        container_state = ChatAgentContainerState.model_validate(state)
        buffer: list[BaseChatMessage] = []
        for data in container_state.message_buffer:
            message = self._message_factory.create(data)
            if not isinstance(message, BaseChatMessage):
                raise ValueError(
                    f"Saved state for {self._agent.name!r} has a {type(message).__name__} in its message buffer; "
                    "only chat messages (BaseChatMessage) can be buffered."
                )
            buffer.append(message)
        self._message_buffer = buffer
        await self._agent.load_state(container_state.agent_state)


def _unregistered(message: BaseAgentEvent | BaseChatMessage) -> str:
    return (
        f"Message type {type(message).__name__} is not registered with the team. Pass it in the team's "
        "custom_message_types=[...] so the team can carry (and save) it."
    )
