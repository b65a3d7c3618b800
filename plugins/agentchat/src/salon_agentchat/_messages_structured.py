"""Chat messages whose content is a pydantic model (structured output an agent produced)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, computed_field

from salon.models import UserMessage

from ._json_schema_model import model_from_json_schema
from ._messages_base import BaseChatMessage

__all__ = ["StructuredContentType", "StructuredMessage", "StructuredMessageFactory"]

StructuredContentType = TypeVar("StructuredContentType", bound=BaseModel, covariant=True)
"""The content model of a :class:`StructuredMessage`."""


class StructuredMessage(BaseChatMessage, Generic[StructuredContentType]):
    """A chat message carrying a pydantic model, e.g. ``StructuredMessage[Verdict](content=..., source=...)``.

    Its ``type`` is the parametrised class name (``"StructuredMessage[Verdict]"``), which is how a
    :class:`MessageFactory` finds the class again when the message comes back from JSON.
    """

    content: StructuredContentType
    """The structured content."""

    format_string: str | None = None
    """How to show the content to people and models: ``str.format`` over the content's fields
    (``"{verdict}: {reason}"``). Unset: the content as JSON. Experimental in AutoGen too."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def type(self) -> str:
        """The class name, parameters included."""
        return self.__class__.__name__

    def _render(self) -> str:
        if self.format_string is None:
            return self.content.model_dump_json()
        return self.format_string.format(**self.content.model_dump())

    def to_text(self) -> str:
        return self._render()

    def to_model_text(self) -> str:
        return self._render()

    def to_model_message(self) -> UserMessage:
        # The model always gets the full JSON: a format string is for display and may drop fields.
        return UserMessage(content=self.content.model_dump_json(), source=self.source)


class StructuredMessageFactory:
    """Makes the :class:`StructuredMessage` class for a content model given as a class or a JSON schema.

    The schema form is what lets a config file or a saved team describe structured output without
    naming Python classes.

    Args:
        json_schema: A JSON schema of an object; a pydantic model is generated from it.
        input_model: The content model itself (used when ``json_schema`` is not given).
        format_string: Becomes the default way to show the content (see :attr:`StructuredMessage.format_string`).
        content_model_name: The generated model's class name (default ``GeneratedContentModel``).

    Attributes:
        ContentModel: The content model class.
        StructuredMessage: ``StructuredMessage[ContentModel]``.
        format_string: As given.

    Raises:
        ValueError: neither ``json_schema`` nor ``input_model`` was given.
    """

    def __init__(
        self,
        json_schema: dict[str, Any] | None = None,
        input_model: type[BaseModel] | None = None,
        format_string: str | None = None,
        content_model_name: str | None = None,
    ) -> None:
        self.format_string = format_string
        if json_schema:
            self.ContentModel: type[BaseModel] = model_from_json_schema(
                json_schema, content_model_name or "GeneratedContentModel"
            )
        elif input_model is not None:
            self.ContentModel = input_model
        else:
            raise ValueError(
                "StructuredMessageFactory needs the content's shape: pass input_model=<a pydantic model class> "
                "or json_schema=<a JSON schema dict>."
            )
        self.StructuredMessage: type[StructuredMessage[BaseModel]] = StructuredMessage[self.ContentModel]  # type: ignore[name-defined]
