"""The tools of ``tool_assistant.yaml``: a local plugin file, listed by the config that uses it.

A config never names Python code by import path; a project's own functions enter through a plugin, or a
file like this one that the config lists under ``plugins: {local: [...]}`` (loaded the way pytest loads
``conftest.py``).
"""

from __future__ import annotations

from typing import Any

from salon import hookimpl

_FORECASTS = {"paris": "sunny, 21 °C", "london": "light rain, 14 °C", "tokyo": "cloudy, 18 °C"}


def get_weather(city: str) -> str:
    """Get today's weather forecast for a city."""
    forecast = _FORECASTS.get(city.strip().lower())
    if forecast is None:
        return f"No forecast for {city}; known cities: {', '.join(c.title() for c in _FORECASTS)}."
    return f"The weather in {city.strip().title()} today: {forecast}."


def add(a: float, b: float) -> float:
    """Add two numbers."""
    return a + b


@hookimpl
def register_tools(register: Any) -> None:
    """Register ``get_weather`` and ``add`` as FunctionTools."""
    from salon.tools import FunctionTool

    register("get_weather", lambda: FunctionTool(get_weather, description=get_weather.__doc__ or ""))
    register("add", lambda: FunctionTool(add, description=add.__doc__ or ""))
