"""Showing a run to a person: the port of ``autogen_agentchat.ui``.

``await Console(team.run_stream(task=...))`` renders every message as it arrives and returns the final
:class:`~salon_agentchat.base.TaskResult` (or :class:`~salon_agentchat.base.Response` for an agent's
``on_messages_stream``). :class:`UserInputManager` makes a :class:`~salon_agentchat.agents.UserProxyAgent`
wait for the console to catch up before it prompts.
"""

from ._console import Console
from ._user_input_manager import UserInputManager

__all__ = ["Console", "UserInputManager"]
