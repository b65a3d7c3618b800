"""Images in messages: a picture a vision model can read, carried as PNG."""

from __future__ import annotations

import base64
import binascii
import re
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from PIL import Image as PILImage
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

__all__ = ["Image"]

_DATA_URI = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,")
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def _pil() -> Any:
    try:
        from PIL import Image as PILImage
    except ImportError as e:  # pillow is an optional dependency of the kernel
        raise ImportError(
            "salon.Image needs pillow. Install it with `pip install 'salon[image]'` (or `pip install pillow`)."
        ) from e
    return PILImage


class Image:
    """An image for a model's input, held as an RGB pillow image.

    Pillow is imported when an image is made, not when ``salon`` is imported. In pydantic models an
    ``Image`` validates from an ``Image`` or ``{"data": <base64>}`` and serializes to the latter, so
    messages holding images round-trip through JSON.

    Args:
        image: A pillow image; it is converted to RGB.
    """

    def __init__(self, image: PILImage.Image) -> None:
        self.image: PILImage.Image = image.convert("RGB")

    @classmethod
    def from_pil(cls, pil_image: PILImage.Image) -> Image:
        """Wrap a pillow image."""
        return cls(pil_image)

    @classmethod
    def from_base64(cls, base64_str: str) -> Image:
        """Decode an image from base64 (PNG, JPEG, GIF, WebP...).

        Raises:
            ValueError: the text is not base64 of an image pillow can read.
        """
        try:
            data = base64.b64decode(base64_str, validate=True)
        except (binascii.Error, ValueError) as e:
            raise ValueError(f"Image.from_base64: the text is not valid base64 ({e}).") from e
        try:
            return cls(_pil().open(BytesIO(data)))
        except OSError as e:
            raise ValueError(f"Image.from_base64: the data is not an image pillow can read ({e}).") from e

    @classmethod
    def from_uri(cls, uri: str) -> Image:
        """Decode a ``data:image/...;base64,`` URI.

        Raises:
            ValueError: the URI is not a base64 image data URI (web URLs are not fetched).
        """
        match = _DATA_URI.match(uri)
        if match is None:
            raise ValueError(
                f"Image.from_uri expects a base64 data URI such as 'data:image/png;base64,...', got {uri[:40]!r}. "
                "Salon does not fetch images from the web: download it yourself and use Image.from_file."
            )
        return cls.from_base64(uri[match.end() :])

    @classmethod
    def from_file(cls, file_path: Path | str) -> Image:
        """Read an image file."""
        return cls(_pil().open(file_path))

    def to_base64(self) -> str:
        """The image as base64-encoded PNG."""
        buffer = BytesIO()
        self.image.save(buffer, format="PNG")
        return base64.b64encode(buffer.getvalue()).decode("ascii")

    @property
    def data_uri(self) -> str:
        """The image as a ``data:`` URI, as model APIs accept it."""
        encoded = self.to_base64()
        head = base64.b64decode(encoded[:16])
        mime = next((kind for signature, kind in _SIGNATURES if head.startswith(signature)), "image/png")
        return f"data:{mime};base64,{encoded}"

    def to_openai_format(self, detail: Literal["auto", "low", "high"] = "auto") -> dict[str, Any]:
        """The image as an OpenAI chat ``image_url`` content part."""
        return {"type": "image_url", "image_url": {"url": self.data_uri, "detail": detail}}

    def _repr_html_(self) -> str:
        return f'<img src="{self.data_uri}"/>'

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Image):
            return NotImplemented
        return self.image.size == other.image.size and self.image.tobytes() == other.image.tobytes()

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def __get_pydantic_core_schema__(cls, source_type: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        from pydantic_core import core_schema

        def validate(value: Any) -> Image:
            if isinstance(value, cls):
                return value
            if isinstance(value, dict) and isinstance(value.get("data"), str):
                return cls.from_base64(value["data"])
            raise ValueError(f"expected an Image or {{'data': <base64 image>}}, got {type(value).__name__}")

        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(lambda image: {"data": image.to_base64()}),
        )
