"""The chat-completions clients: :class:`OpenAIChatCompletionClient`, :class:`AzureOpenAIChatCompletionClient`.

Both speak OpenAI's chat-completions API through the official ``openai`` SDK, so they work with OpenAI,
Azure OpenAI, and every server that copies the API (Gemini's OpenAI-compatible endpoint, Ollama,
llama.cpp's server, vLLM, ...). Retries (429 and 5xx, honouring ``Retry-After``) and timeouts are the
SDK's; the errors it raises keep their types and gain a note saying what Salon tried.

This module holds what differs between the two: their constructors, which make the SDK client, check
the keyword options and record them for :meth:`~BaseOpenAIChatCompletionClient.dump_options`. The calls
they share are :class:`~salon_openai.BaseOpenAIChatCompletionClient`'s (``_base_client``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

from salon.models import ModelCapabilities, ModelInfo

from . import _model_info
from ._base_client import BaseOpenAIChatCompletionClient

__all__ = ["AzureOpenAIChatCompletionClient", "OpenAIChatCompletionClient"]

#: Request arguments the constructors accept and send with every call (AutoGen's create-args options).
_CREATE_OPTIONS = (
    "frequency_penalty",
    "logit_bias",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "response_format",
    "seed",
    "stop",
    "temperature",
    "top_p",
    "user",
    "parallel_tool_calls",
    "reasoning_effort",
    "stream_options",
    "logprobs",
    "top_logprobs",
    "metadata",
    "service_tier",
    "store",
    "extra_body",
    "extra_headers",
    "extra_query",
)


def _secret(value: str | SecretStr | None) -> str | None:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def _split_options(
    options: Mapping[str, Any], create_args: dict[str, Any], raw: dict[str, Any], client_kwargs: dict[str, Any]
) -> None:
    for name, value in options.items():
        if value is None:
            continue
        raw[name] = value
        create_args[name] = value
    for name in ("timeout", "max_retries", "default_headers", "organization", "project"):
        value = client_kwargs.get(name)
        if value is not None:
            raw[name] = value
    if isinstance(create_args.get("response_format"), type):
        raw.pop("response_format", None)


class OpenAIChatCompletionClient(BaseOpenAIChatCompletionClient):
    r"""A chat model behind OpenAI's chat-completions API: OpenAI itself or any compatible server.

    The port of ``autogen_ext.models.openai.OpenAIChatCompletionClient``; the same keyword options::

        client = OpenAIChatCompletionClient(model="gpt-4o-mini")  # api_key from OPENAI_API_KEY
        local = OpenAIChatCompletionClient(
            model="llama3.2",
            base_url="http://localhost:11434/v1",
            api_key="ollama",
            model_info={"vision": False, "function_calling": True, "json_output": True,
                        "family": "unknown", "structured_output": True},
        )

    Args:
        model: The model name sent with each request; also how ``model_info`` is looked up.
        api_key: The key; default ``OPENAI_API_KEY`` (``GEMINI_API_KEY`` for ``gemini-*`` models).
        base_url: Another OpenAI-compatible server (``.../v1``); ``gemini-*`` models default to Google's.
        organization: The OpenAI organization id.
        project: The OpenAI project id.
        timeout: Seconds to wait for a response (per attempt).
        max_retries: Retries of a request that failed with 408, 409, 429 or 5xx, or a connection
            error, with exponential backoff or the server's ``Retry-After`` (the SDK's default: 2).
        model_info: What the model can do; required for models Salon does not know.
        model_capabilities: Deprecated form of ``model_info``.
        add_name_prefixes: Prefix each user message with ``"<source> said:\\n"``.
        include_name_in_message: Send each message's ``source`` as its ``name`` (default ``True``).
        default_headers: Headers added to every request.
        token_limit: The context window for :meth:`remaining_tokens` (known models have theirs).
        http_client: An ``httpx.AsyncClient`` for the SDK to use.
        **create_args: Sent with every request: ``temperature``, ``seed``, ``max_tokens``,
            ``max_completion_tokens``, ``top_p``, ``stop``, ``frequency_penalty``, ``presence_penalty``,
            ``parallel_tool_calls``, ``reasoning_effort``, ``response_format`` (a dict, or a pydantic model
            class for structured output), ``stream_options``, ``user``, ``extra_body``, ...
    """

    _salon_component_ = ("model_client", "openai")

    def __init__(
        self,
        *,
        model: str,
        api_key: str | SecretStr | None = None,
        base_url: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        model_info: ModelInfo | None = None,
        model_capabilities: ModelCapabilities | None = None,
        add_name_prefixes: bool = False,
        include_name_in_message: bool = True,
        default_headers: Mapping[str, str] | None = None,
        token_limit: int | None = None,
        http_client: Any = None,
        **create_args: Any,
    ) -> None:
        from openai import AsyncOpenAI, OpenAIError

        _check_create_options("OpenAIChatCompletionClient", create_args)
        key = _secret(api_key)
        if model.startswith("gemini-"):
            base_url = base_url or _model_info.GEMINI_OPENAI_BASE_URL
            key = key or os.environ.get("GEMINI_API_KEY")
        client_kwargs: dict[str, Any] = {
            "organization": organization,
            "project": project,
            "default_headers": default_headers,
        }
        if timeout is not None:
            client_kwargs["timeout"] = timeout
        if max_retries is not None:
            client_kwargs["max_retries"] = max_retries
        if http_client is not None:
            client_kwargs["http_client"] = http_client
        try:
            client = AsyncOpenAI(api_key=key, base_url=base_url, **client_kwargs)
        except OpenAIError as e:
            raise ValueError(
                f"No API key for {model!r}: pass api_key=... or set OPENAI_API_KEY"
                + (" (or GEMINI_API_KEY)" if model.startswith("gemini-") else "")
                + "; a local server that checks no key (Ollama, llama.cpp) takes any placeholder, e.g. api_key='none'."
            ) from e
        raw: dict[str, Any] = {"model": model}
        if api_key is not None:
            raw["api_key"] = SecretStr(key or "")
        if base_url is not None:
            raw["base_url"] = base_url
        if model_info is not None:
            raw["model_info"] = dict(model_info)
        if add_name_prefixes:
            raw["add_name_prefixes"] = True
        if not include_name_in_message:
            raw["include_name_in_message"] = False
        if token_limit is not None:
            raw["token_limit"] = token_limit
        args: dict[str, Any] = {"model": model}
        _split_options(create_args, args, raw, client_kwargs)
        super().__init__(
            client,
            create_args=args,
            model_info=model_info,
            model_capabilities=model_capabilities,
            add_name_prefixes=add_name_prefixes,
            include_name_in_message=include_name_in_message,
            token_limit=token_limit,
            raw_config=raw,
        )


class AzureOpenAIChatCompletionClient(BaseOpenAIChatCompletionClient):
    r"""A chat model deployed on Azure OpenAI.

    The port of ``autogen_ext.models.openai.AzureOpenAIChatCompletionClient``::

        client = AzureOpenAIChatCompletionClient(
            azure_deployment="my-gpt-4o",
            model="gpt-4o",
            api_version="2024-06-01",
            azure_endpoint="https://my-resource.openai.azure.com/",
            api_key="...",  # or AZURE_OPENAI_API_KEY, or azure_ad_token_provider=...
        )

    Args:
        model: The OpenAI model behind the deployment (for ``model_info`` and token counting).
        azure_endpoint: The resource's endpoint.
        azure_deployment: The deployment name.
        api_version: The Azure OpenAI API version.
        api_key: The key; default ``AZURE_OPENAI_API_KEY``.
        azure_ad_token: An Entra ID token, instead of a key.
        azure_ad_token_provider: A callable returning Entra ID tokens, instead of a key.
        timeout: Seconds to wait for a response (per attempt).
        max_retries: Retries of failed requests (see :class:`OpenAIChatCompletionClient`).
        model_info: What the model can do; required for models Salon does not know.
        model_capabilities: Deprecated form of ``model_info``.
        add_name_prefixes: Prefix each user message with ``"<source> said:\\n"``.
        include_name_in_message: Send each message's ``source`` as its ``name``.
        default_headers: Headers added to every request.
        token_limit: The context window for :meth:`remaining_tokens`.
        http_client: An ``httpx.AsyncClient`` for the SDK to use.
        **create_args: Sent with every request, as for :class:`OpenAIChatCompletionClient`.
    """

    _salon_component_ = ("model_client", "azure_openai")

    def __init__(
        self,
        *,
        model: str,
        azure_endpoint: str,
        api_version: str,
        azure_deployment: str | None = None,
        api_key: str | SecretStr | None = None,
        azure_ad_token: str | SecretStr | None = None,
        azure_ad_token_provider: Any = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        model_info: ModelInfo | None = None,
        model_capabilities: ModelCapabilities | None = None,
        add_name_prefixes: bool = False,
        include_name_in_message: bool = True,
        default_headers: Mapping[str, str] | None = None,
        token_limit: int | None = None,
        http_client: Any = None,
        **create_args: Any,
    ) -> None:
        from openai import AsyncAzureOpenAI, OpenAIError

        _check_create_options("AzureOpenAIChatCompletionClient", create_args)
        client_kwargs: dict[str, Any] = {"default_headers": default_headers}
        if timeout is not None:
            client_kwargs["timeout"] = timeout
        if max_retries is not None:
            client_kwargs["max_retries"] = max_retries
        if http_client is not None:
            client_kwargs["http_client"] = http_client
        try:
            client = AsyncAzureOpenAI(
                azure_endpoint=azure_endpoint,
                azure_deployment=azure_deployment,
                api_version=api_version,
                api_key=_secret(api_key),
                azure_ad_token=_secret(azure_ad_token),
                azure_ad_token_provider=azure_ad_token_provider,
                **client_kwargs,
            )
        except OpenAIError as e:
            raise ValueError(
                "No credentials for Azure OpenAI: pass api_key=..., azure_ad_token=... or azure_ad_token_provider=..., "
                "or set AZURE_OPENAI_API_KEY."
            ) from e
        raw: dict[str, Any] = {"model": model, "azure_endpoint": azure_endpoint, "api_version": api_version}
        if azure_deployment is not None:
            raw["azure_deployment"] = azure_deployment
        if api_key is not None:
            raw["api_key"] = SecretStr(_secret(api_key) or "")
        if azure_ad_token is not None:
            raw["azure_ad_token"] = SecretStr(_secret(azure_ad_token) or "")
        if model_info is not None:
            raw["model_info"] = dict(model_info)
        if token_limit is not None:
            raw["token_limit"] = token_limit
        args: dict[str, Any] = {"model": model}
        _split_options(create_args, args, raw, client_kwargs)
        super().__init__(
            client,
            create_args=args,
            model_info=model_info,
            model_capabilities=model_capabilities,
            add_name_prefixes=add_name_prefixes,
            include_name_in_message=include_name_in_message,
            token_limit=token_limit,
            raw_config=raw,
        )


def _check_create_options(client_name: str, create_args: Mapping[str, Any]) -> None:
    """Refuse constructor keywords that are not request arguments (a misspelt option would be sent as-is)."""
    unknown = sorted(set(create_args) - set(_CREATE_OPTIONS))
    if unknown:
        raise TypeError(
            f"{client_name} got unknown options {unknown}; request arguments it accepts: {', '.join(_CREATE_OPTIONS)}."
        )
