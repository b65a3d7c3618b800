"""What salon-anthropic knows about Claude models: capabilities and context windows, by model-name prefix."""

from __future__ import annotations

from salon.models import ModelFamily, ModelInfo

__all__ = ["KNOWN_MODEL_PREFIXES", "model_info_for", "token_limit_for"]


def _claude(family: str, *, structured: bool = True) -> ModelInfo:
    # json_output=True has no request field (Anthropic has no free-form JSON mode; the prompt asks for
    # JSON, as in AutoGen); structured output is the API's output_config.format (a JSON schema), which
    # Claude models from the 4.5 generation on support.
    return ModelInfo(
        vision=True,
        function_calling=True,
        json_output=True,
        family=family,
        structured_output=structured,
        multiple_system_messages=False,
    )


# Longest prefix wins, so dated names ("claude-sonnet-4-5-20250929") and aliases ("claude-sonnet-4-6")
# both match. Every current Claude model has a 200k-token context window.
_MODELS: dict[str, tuple[ModelInfo, int]] = {
    "claude-opus-5": (_claude("claude-5-opus"), 200_000),
    "claude-sonnet-5": (_claude("claude-5-sonnet"), 200_000),
    "claude-haiku-5": (_claude("claude-5-haiku"), 200_000),
    "claude-opus-4": (_claude(ModelFamily.CLAUDE_4_OPUS), 200_000),
    "claude-opus-4-0": (_claude(ModelFamily.CLAUDE_4_OPUS, structured=False), 200_000),
    "claude-opus-4-1": (_claude(ModelFamily.CLAUDE_4_OPUS, structured=False), 200_000),
    "claude-opus-4-2025": (_claude(ModelFamily.CLAUDE_4_OPUS, structured=False), 200_000),
    "claude-sonnet-4": (_claude(ModelFamily.CLAUDE_4_SONNET), 200_000),
    "claude-sonnet-4-0": (_claude(ModelFamily.CLAUDE_4_SONNET, structured=False), 200_000),
    "claude-sonnet-4-2025": (_claude(ModelFamily.CLAUDE_4_SONNET, structured=False), 200_000),
    "claude-haiku-4": (_claude("claude-4-haiku"), 200_000),
    "claude-3-7-sonnet": (_claude(ModelFamily.CLAUDE_3_7_SONNET, structured=False), 200_000),
    "claude-3-5-sonnet": (_claude(ModelFamily.CLAUDE_3_5_SONNET, structured=False), 200_000),
    "claude-3-5-haiku": (_claude(ModelFamily.CLAUDE_3_5_HAIKU, structured=False), 200_000),
    "claude-3-opus": (_claude(ModelFamily.CLAUDE_3_OPUS, structured=False), 200_000),
    "claude-3-sonnet": (_claude(ModelFamily.CLAUDE_3_SONNET, structured=False), 200_000),
    "claude-3-haiku": (_claude(ModelFamily.CLAUDE_3_HAIKU, structured=False), 200_000),
}
KNOWN_MODEL_PREFIXES: tuple[str, ...] = tuple(sorted(_MODELS, key=len, reverse=True))
_DEFAULT_TOKEN_LIMIT = 200_000


def _lookup(model: str) -> tuple[ModelInfo, int] | None:
    for prefix in KNOWN_MODEL_PREFIXES:
        if model.startswith(prefix):
            return _MODELS[prefix]
    return None


def model_info_for(model: str) -> ModelInfo:
    """The :class:`~salon.models.ModelInfo` of a known Claude model (a copy).

    Raises:
        ValueError: ``model`` is not one salon-anthropic knows; the message says what to pass.
    """
    found = _lookup(model)
    if found is None:
        raise ValueError(
            f"salon-anthropic does not know the model {model!r} (it knows names starting with "
            f"{', '.join(sorted(KNOWN_MODEL_PREFIXES))}). Pass model_info to say what it can do, e.g. "
            "model_info={'vision': True, 'function_calling': True, 'json_output': True, "
            "'family': 'unknown', 'structured_output': False}."
        )
    return ModelInfo(**found[0])


def token_limit_for(model: str) -> int:
    """The context window of ``model`` in tokens (200k, Claude's, for models it does not know)."""
    found = _lookup(model)
    return found[1] if found is not None else _DEFAULT_TOKEN_LIMIT
