"""What a model can do: :class:`ModelInfo`, the :class:`ModelFamily` names, and their validation.

Agents read ``model_info`` to decide whether they may send images, tools or JSON mode, so a client
for a model it does not know must be told these facts; :func:`validate_model_info` makes a missing
fact an error at construction time instead of a confusing provider error later.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal, Required, TypeAlias, TypedDict

__all__ = ["ModelFamily", "ModelInfo", "ModelCapabilities", "validate_model_info"]


class ModelFamily:
    """Names of the model families Salon knows, as string constants (a namespace, not instantiable).

    A family groups models that behave alike (prompt conventions, tool-call quirks). Any other string
    is allowed in :class:`ModelInfo` and is treated as an unknown family.
    """

    GPT_5 = "gpt-5"
    GPT_41 = "gpt-41"
    GPT_45 = "gpt-45"
    GPT_4O = "gpt-4o"
    O1 = "o1"
    O3 = "o3"
    O4 = "o4"
    GPT_4 = "gpt-4"
    GPT_35 = "gpt-35"
    R1 = "r1"
    GEMINI_1_5_FLASH = "gemini-1.5-flash"
    GEMINI_1_5_PRO = "gemini-1.5-pro"
    GEMINI_2_0_FLASH = "gemini-2.0-flash"
    GEMINI_2_5_PRO = "gemini-2.5-pro"
    GEMINI_2_5_FLASH = "gemini-2.5-flash"
    CLAUDE_3_HAIKU = "claude-3-haiku"
    CLAUDE_3_SONNET = "claude-3-sonnet"
    CLAUDE_3_OPUS = "claude-3-opus"
    CLAUDE_3_5_HAIKU = "claude-3-5-haiku"
    CLAUDE_3_5_SONNET = "claude-3-5-sonnet"
    CLAUDE_3_7_SONNET = "claude-3-7-sonnet"
    CLAUDE_4_OPUS = "claude-4-opus"
    CLAUDE_4_SONNET = "claude-4-sonnet"
    LLAMA_3_3_8B = "llama-3.3-8b"
    LLAMA_3_3_70B = "llama-3.3-70b"
    LLAMA_4_SCOUT = "llama-4-scout"
    LLAMA_4_MAVERICK = "llama-4-maverick"
    CODESRAL = "codestral"
    OPEN_CODESRAL_MAMBA = "open-codestral-mamba"
    MISTRAL = "mistral"
    MINISTRAL = "ministral"
    PIXTRAL = "pixtral"
    UNKNOWN = "unknown"

    ANY: TypeAlias = Literal[
        "gpt-5",
        "gpt-41",
        "gpt-45",
        "gpt-4o",
        "o1",
        "o3",
        "o4",
        "gpt-4",
        "gpt-35",
        "r1",
        "gemini-1.5-flash",
        "gemini-1.5-pro",
        "gemini-2.0-flash",
        "gemini-2.5-pro",
        "gemini-2.5-flash",
        "claude-3-haiku",
        "claude-3-sonnet",
        "claude-3-opus",
        "claude-3-5-haiku",
        "claude-3-5-sonnet",
        "claude-3-7-sonnet",
        "claude-4-opus",
        "claude-4-sonnet",
        "llama-3.3-8b",
        "llama-3.3-70b",
        "llama-4-scout",
        "llama-4-maverick",
        "codestral",
        "open-codestral-mamba",
        "mistral",
        "ministral",
        "pixtral",
        "unknown",
    ]

    def __new__(cls, *args: Any, **kwargs: Any) -> ModelFamily:
        raise TypeError("ModelFamily is a namespace of family names; use its constants, e.g. ModelFamily.GPT_4O.")

    @staticmethod
    def is_openai(family: str) -> bool:
        """Return whether ``family`` is one of OpenAI's (GPT and o-series)."""
        return family in _OPENAI

    @staticmethod
    def is_claude(family: str) -> bool:
        """Return whether ``family`` is one of Anthropic's Claude families."""
        return family in _CLAUDE

    @staticmethod
    def is_gemini(family: str) -> bool:
        """Return whether ``family`` is one of Google's Gemini families."""
        return family in _GEMINI

    @staticmethod
    def is_llama(family: str) -> bool:
        """Return whether ``family`` is one of Meta's Llama families."""
        return family in _LLAMA

    @staticmethod
    def is_mistral(family: str) -> bool:
        """Return whether ``family`` is one of Mistral's families."""
        return family in _MISTRAL


_F = ModelFamily
_OPENAI = frozenset({_F.GPT_5, _F.GPT_45, _F.GPT_41, _F.GPT_4O, _F.O1, _F.O3, _F.O4, _F.GPT_4, _F.GPT_35})
_CLAUDE = frozenset(
    {
        _F.CLAUDE_3_HAIKU,
        _F.CLAUDE_3_SONNET,
        _F.CLAUDE_3_OPUS,
        _F.CLAUDE_3_5_HAIKU,
        _F.CLAUDE_3_5_SONNET,
        _F.CLAUDE_3_7_SONNET,
        _F.CLAUDE_4_OPUS,
        _F.CLAUDE_4_SONNET,
    }
)
_GEMINI = frozenset(
    {_F.GEMINI_1_5_FLASH, _F.GEMINI_1_5_PRO, _F.GEMINI_2_0_FLASH, _F.GEMINI_2_5_PRO, _F.GEMINI_2_5_FLASH}
)
_LLAMA = frozenset({_F.LLAMA_3_3_8B, _F.LLAMA_3_3_70B, _F.LLAMA_4_SCOUT, _F.LLAMA_4_MAVERICK})
_MISTRAL = frozenset({_F.CODESRAL, _F.OPEN_CODESRAL_MAMBA, _F.MISTRAL, _F.MINISTRAL, _F.PIXTRAL})


class ModelCapabilities(TypedDict, total=False):
    """Deprecated (as in AutoGen): the older, smaller form of :class:`ModelInfo`."""

    vision: Required[bool]
    function_calling: Required[bool]
    json_output: Required[bool]


class ModelInfo(TypedDict, total=False):
    """Facts about a model that agents and clients act on.

    A plain dict, so it can be written in a config file as a mapping.
    """

    vision: Required[bool]
    """The model accepts images."""
    function_calling: Required[bool]
    """The model can call tools."""
    json_output: Required[bool]
    """The model has a JSON mode (any JSON; see ``structured_output`` for schema-constrained output)."""
    family: Required[ModelFamily.ANY | str]
    """A :class:`ModelFamily` constant, or any string for a family Salon does not know."""
    structured_output: Required[bool]
    """The model can be constrained to a JSON schema."""
    multiple_system_messages: bool | None
    """The model accepts several system messages that are not all at the start."""


_REQUIRED = ("vision", "function_calling", "json_output", "family")
_REQUIRED_SOON = ("structured_output",)


def validate_model_info(model_info: ModelInfo) -> None:
    """Check that ``model_info`` states every fact agents rely on.

    Missing ``structured_output`` only warns, as in AutoGen, because older configs lack it.

    Raises:
        ValueError: A required key is missing; the message names every missing key and shows a
            complete example to pass.
    """
    missing = [key for key in _REQUIRED if key not in model_info]
    if missing:
        raise ValueError(
            f"model_info is missing {', '.join(repr(k) for k in missing)}. Pass every required key, e.g. "
            "model_info={'vision': False, 'function_calling': True, 'json_output': True, "
            "'family': 'unknown', 'structured_output': True}."
        )
    for key in _REQUIRED_SOON:
        if key not in model_info:
            warnings.warn(
                f"model_info is missing {key!r}; it will be required in a future version. Add {key!r}: True or False.",
                UserWarning,
                stacklevel=2,
            )
