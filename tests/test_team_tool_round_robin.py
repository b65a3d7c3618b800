"""TeamTool over ``salon_teams.RoundRobinGroupChat``, called by an AssistantAgent.

salon-agentchat's own tests cannot import salon-teams (each distribution is tested with only its own
dependencies), so the port of AutoGen's ``test_team_tool`` / ``test_team_tool_stream`` lives here.
"""

from __future__ import annotations

import json

from salon import CancellationToken, FunctionCall
from salon.models import CreateResult, ModelFamily, ModelInfo, ReplayChatCompletionClient, RequestUsage
from salon_agentchat.agents import AssistantAgent
from salon_agentchat.conditions import MaxMessageTermination
from salon_agentchat.messages import TextMessage, ToolCallExecutionEvent, ToolCallRequestEvent
from salon_agentchat.tools import TeamTool
from salon_teams import RoundRobinGroupChat

INFO = ModelInfo(
    vision=False, function_calling=True, json_output=True, family=ModelFamily.UNKNOWN, structured_output=True
)


def writing_team() -> RoundRobinGroupChat:
    writer = AssistantAgent("writer", model_client=ReplayChatCompletionClient(["A draft.", "A second draft."]))
    reviewer = AssistantAgent("reviewer", model_client=ReplayChatCompletionClient(["Looks good.", "Still good."]))
    return RoundRobinGroupChat([writer, reviewer], termination_condition=MaxMessageTermination(3))


async def test_assistant_agent_calls_a_round_robin_team_as_a_tool() -> None:
    tool = TeamTool(writing_team(), name="writing_team", description="Writes and reviews.")
    call = FunctionCall(id="1", name="writing_team", arguments=json.dumps({"task": "Write a line."}))
    model = ReplayChatCompletionClient(
        [
            CreateResult(finish_reason="function_calls", content=[call], usage=RequestUsage(0, 0), cached=False),
            "The team wrote a draft and approved it.",
        ],
        model_info=INFO,
    )
    main = AssistantAgent("main", model_client=model, tools=[tool], reflect_on_tool_use=True)

    result = await main.run(task="Get me a line of text.")

    kinds = [(type(m), m.source) for m in result.messages]
    assert kinds == [
        (TextMessage, "user"),
        (ToolCallRequestEvent, "main"),
        (TextMessage, "user"),
        (TextMessage, "writer"),
        (TextMessage, "reviewer"),
        (ToolCallExecutionEvent, "main"),
        (TextMessage, "main"),
    ]
    execution = result.messages[5]
    assert isinstance(execution, ToolCallExecutionEvent)
    assert execution.content[0].content == "writer: A draft.\n\nreviewer: Looks good."
    assert result.messages[-1].to_text() == "The team wrote a draft and approved it."


async def test_team_tool_continues_the_team_and_keeps_its_state() -> None:
    tool = TeamTool(writing_team(), name="writing_team", description="Writes.", return_value_as_last_message=True)
    first = await tool.run_json({"task": "Write."}, CancellationToken())
    assert tool.return_value_as_string(first) == "Looks good."
    second = await tool.run_json({"task": "Again."}, CancellationToken())
    assert [m.to_text() for m in second.messages] == ["Again.", "A second draft.", "Still good."]

    state = await tool.save_state_json()
    copy = TeamTool(writing_team(), name="writing_team", description="Writes.")
    await copy.load_state_json(state)
    assert await copy.save_state_json() == state
