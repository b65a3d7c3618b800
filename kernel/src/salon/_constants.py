"""Logger names shared by the runtime and the agents."""

__all__ = ["ROOT_LOGGER_NAME", "EVENT_LOGGER_NAME", "TRACE_LOGGER_NAME"]

ROOT_LOGGER_NAME = "salon"
"""Parent of every Salon logger."""

EVENT_LOGGER_NAME = "salon.events"
"""Structured events (message deliveries, drops, LLM calls); records carry event objects, not prose."""

TRACE_LOGGER_NAME = "salon.trace"
"""Human-readable debugging output."""
