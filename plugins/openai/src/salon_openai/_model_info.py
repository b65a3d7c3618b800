"""What Salon knows about models reachable through OpenAI's chat-completions API.

A model is looked up by its name, or by the name without a release date (``gpt-4o-2024-08-06`` is a
``gpt-4o``). Models not listed here (local servers, other providers' OpenAI-compatible endpoints) need
``model_info`` from the user; :func:`get_info` says so in its error.
"""

from __future__ import annotations

import re

from salon.models import ModelFamily, ModelInfo

__all__ = ["GEMINI_OPENAI_BASE_URL", "encoding_name", "get_info", "get_token_limit", "known_models", "resolve"]

GEMINI_OPENAI_BASE_URL = "https://generativelanguage.googleapis.com/v1beta/openai/"
"""Google's OpenAI-compatible endpoint, used for ``gemini-*`` models when no ``base_url`` is given."""

_F = ModelFamily


def _info(family: str, *, vision: bool = True, tools: bool = True, structured: bool = True) -> ModelInfo:
    return ModelInfo(
        vision=vision,
        function_calling=tools,
        json_output=True,
        family=family,
        structured_output=structured,
        multiple_system_messages=True,
    )


# name -> (info, context window in tokens)
_MODELS: dict[str, tuple[ModelInfo, int]] = {
    "gpt-5": (_info(_F.GPT_5), 400_000),
    "gpt-5-mini": (_info(_F.GPT_5), 400_000),
    "gpt-5-nano": (_info(_F.GPT_5), 400_000),
    "gpt-4.1": (_info(_F.GPT_41), 1_047_576),
    "gpt-4.1-mini": (_info(_F.GPT_41), 1_047_576),
    "gpt-4.1-nano": (_info(_F.GPT_41), 1_047_576),
    "gpt-4.5-preview": (_info(_F.GPT_45), 128_000),
    "gpt-4o": (_info(_F.GPT_4O), 128_000),
    "gpt-4o-mini": (_info(_F.GPT_4O), 128_000),
    "chatgpt-4o-latest": (_info(_F.GPT_4O), 128_000),
    "gpt-4-turbo": (_info(_F.GPT_4, structured=False), 128_000),
    "gpt-4-turbo-preview": (_info(_F.GPT_4, vision=False, structured=False), 128_000),
    "gpt-4": (_info(_F.GPT_4, vision=False, structured=False), 8_192),
    "gpt-4-32k": (_info(_F.GPT_4, vision=False, structured=False), 32_768),
    "gpt-3.5-turbo": (_info(_F.GPT_35, vision=False, structured=False), 16_385),
    "gpt-3.5-turbo-16k": (_info(_F.GPT_35, vision=False, structured=False), 16_385),
    "o1": (_info(_F.O1), 200_000),
    "o1-mini": (_info(_F.O1, vision=False, tools=False, structured=False), 128_000),
    "o1-preview": (_info(_F.O1, vision=False, tools=False, structured=False), 128_000),
    "o3": (_info(_F.O3), 200_000),
    "o3-mini": (_info(_F.O3, vision=False), 200_000),
    "o4-mini": (_info(_F.O4), 200_000),
    "gemini-1.5-flash": (_info(_F.GEMINI_1_5_FLASH), 1_048_576),
    "gemini-1.5-flash-8b": (_info(_F.GEMINI_1_5_FLASH), 1_048_576),
    "gemini-1.5-pro": (_info(_F.GEMINI_1_5_PRO), 2_097_152),
    "gemini-2.0-flash": (_info(_F.GEMINI_2_0_FLASH), 1_048_576),
    "gemini-2.0-flash-lite": (_info(_F.GEMINI_2_0_FLASH), 1_048_576),
    "gemini-2.5-pro": (_info(_F.GEMINI_2_5_PRO), 1_048_576),
    "gemini-2.5-flash": (_info(_F.GEMINI_2_5_FLASH), 1_048_576),
}

# A release suffix: -2024-08-06, -0613, -0125-preview, -preview-03-25, -latest, -exp.
_SUFFIX = re.compile(r"(-\d{4}-\d{2}-\d{2}|-\d{4}(-preview)?|-preview(-\d{2}-\d{2})?|-latest|-exp(-\d+)?|-\d{3})$")


def resolve(model: str) -> str | None:
    """The table's name for ``model`` (``gpt-4o-2024-08-06`` -> ``gpt-4o``), or ``None`` if unknown."""
    name = model.lower().removeprefix("models/")
    while True:
        if name in _MODELS:
            return name
        shorter = _SUFFIX.sub("", name)
        if shorter == name:
            return None
        name = shorter


def known_models() -> list[str]:
    """The model names Salon has ``model_info`` for (dated releases of them are known too)."""
    return sorted(_MODELS)


def get_info(model: str) -> ModelInfo:
    """The :class:`~salon.models.ModelInfo` of a known model (a fresh copy).

    Raises:
        ValueError: ``model`` is not known; the message says to pass ``model_info`` and shows one.
    """
    name = resolve(model)
    if name is None:
        raise ValueError(
            f"Salon does not know the model {model!r}, so it cannot tell what it can do. Pass model_info "
            "describing it, e.g. model_info={'vision': False, 'function_calling': True, 'json_output': True, "
            "'family': 'unknown', 'structured_output': False} (in a config: options.model_info). "
            f"Known models: {', '.join(known_models())}."
        )
    return ModelInfo(**_MODELS[name][0])


def get_token_limit(model: str) -> int | None:
    """The context window of a known model in tokens, or ``None`` when the model is not known."""
    name = resolve(model)
    return None if name is None else _MODELS[name][1]


_O200K_FAMILIES = frozenset({_F.GPT_5, _F.GPT_41, _F.GPT_45, _F.GPT_4O, _F.O1, _F.O3, _F.O4})


def encoding_name(family: str) -> str:
    """The tiktoken encoding a family's models use: ``o200k_base`` for GPT-4o and later, else ``cl100k_base``."""
    return "o200k_base" if family in _O200K_FAMILIES else "cl100k_base"
