"""salon.Image: made from pillow, base64, data URIs and files; round-trips through pydantic JSON."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image as PILImage
from pydantic import BaseModel

from salon import Image


def _red(size: tuple[int, int] = (3, 2)) -> PILImage.Image:
    return PILImage.new("RGB", size, (255, 0, 0))


def test_base64_and_data_uri_round_trip() -> None:
    image = Image.from_pil(_red())
    again = Image.from_base64(image.to_base64())
    assert again == image
    assert image.data_uri.startswith("data:image/png;base64,")
    assert Image.from_uri(image.data_uri) == image
    assert image.to_openai_format("low") == {"type": "image_url", "image_url": {"url": image.data_uri, "detail": "low"}}


def test_converts_to_rgb_and_reads_files(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    PILImage.new("RGBA", (2, 2), (0, 255, 0, 128)).save(path)
    image = Image.from_file(path)
    assert image.image.mode == "RGB"
    assert image.image.size == (2, 2)


def test_bad_input_says_what_was_wrong() -> None:
    with pytest.raises(ValueError, match="not valid base64"):
        Image.from_base64("not base64!!")
    with pytest.raises(ValueError, match="not an image"):
        Image.from_base64("aGVsbG8=")
    with pytest.raises(ValueError, match="does not fetch images from the web"):
        Image.from_uri("https://example.invalid/cat.png")


class Holder(BaseModel):
    picture: Image


def test_pydantic_round_trip_through_json() -> None:
    holder = Holder(picture=Image.from_pil(_red((4, 4))))
    data = holder.model_dump_json()
    assert '"data"' in data
    assert Holder.model_validate_json(data).picture == holder.picture
    with pytest.raises(ValueError, match="expected an Image"):
        Holder.model_validate({"picture": 42})


def test_import_salon_does_not_import_pillow() -> None:
    code = "import sys, salon; assert 'PIL' not in sys.modules; salon.Image; assert 'PIL' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
