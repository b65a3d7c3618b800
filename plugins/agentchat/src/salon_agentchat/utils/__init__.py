"""Helpers shared by AgentChat agents and teams (the port of ``autogen_agentchat.utils``).

``add_to_model_context`` is Salon's own: the model-backed agents and the selector feed messages to their
model contexts through it.
"""

from __future__ import annotations

from ._content import content_to_str, remove_images
from ._model_context import add_to_model_context

__all__ = ["add_to_model_context", "content_to_str", "remove_images"]
