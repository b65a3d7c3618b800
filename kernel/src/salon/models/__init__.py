"""Model clients and the messages they exchange: the port of ``autogen_core.models``.

Also home of :class:`ReplayChatCompletionClient` (AutoGen's ``autogen_ext.models.replay``), the scripted
client used for offline tests and examples. This package imports pydantic, so ``import salon`` does not
import it; it loads on first use.
"""

from ._model_client import ChatCompletionClient
from ._model_info import ModelCapabilities, ModelFamily, ModelInfo, validate_model_info
from ._replay import ReplayChatCompletionClient
from ._types import (
    AssistantMessage,
    ChatCompletionTokenLogprob,
    CreateResult,
    FinishReasons,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    RequestUsage,
    SystemMessage,
    TopLogprob,
    UserMessage,
)

__all__ = [
    "AssistantMessage",
    "ChatCompletionClient",
    "ChatCompletionTokenLogprob",
    "CreateResult",
    "FinishReasons",
    "FunctionExecutionResult",
    "FunctionExecutionResultMessage",
    "LLMMessage",
    "ModelCapabilities",
    "ModelFamily",
    "ModelInfo",
    "ReplayChatCompletionClient",
    "RequestUsage",
    "SystemMessage",
    "TopLogprob",
    "UserMessage",
    "validate_model_info",
]
