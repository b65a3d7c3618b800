"""Helpers shared by AgentChat agents and teams (the port of ``autogen_agentchat.utils``)."""

from __future__ import annotations

from ._content import content_to_str, remove_images

__all__ = ["content_to_str", "remove_images"]
