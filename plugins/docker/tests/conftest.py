"""Shared fixtures: a Docker daemon and the test image must be there; without them the tests fail, never skip.

The image is ``$SALON_DOCKER_TEST_IMAGE`` (CI exports it), else ``salon-test-python:bookworm``: what
``plugins/docker/scripts/build-test-image.sh`` builds without a registry.
"""

from __future__ import annotations

import os

import docker  # type: ignore[import-untyped]
import pytest
from docker.errors import DockerException, ImageNotFound  # type: ignore[import-untyped]

HOW_TO = (
    "Start a daemon (no default bridge is needed):\n"
    "  dockerd --bridge=none --iptables=false --ip-forward=false --ip-masq=false "
    "-H unix:///tmp/salon-docker.sock &\n"
    "  export DOCKER_HOST=unix:///tmp/salon-docker.sock\n"
    "then build the test image: plugins/docker/scripts/build-test-image.sh "
    "(apt-get install docker.io mmdebstrap first; .ci/run does all of this). See docs/plugins/docker.md."
)


def _image_name() -> str:
    return os.environ.get("SALON_DOCKER_TEST_IMAGE") or "salon-test-python:bookworm"


@pytest.fixture(scope="session")
def test_image() -> str:
    """The image the tests run code in, checked to be in a daemon that answers."""
    image = _image_name()
    try:
        client = docker.from_env()
        client.ping()
    except DockerException as error:
        pytest.fail(
            f"No Docker daemon answers (DOCKER_HOST={os.environ.get('DOCKER_HOST')}): {error}\n{HOW_TO}", pytrace=False
        )
    try:
        client.images.get(image)
    except ImageNotFound:
        pytest.fail(f"The test image {image!r} is not in the Docker daemon.\n{HOW_TO}", pytrace=False)
    finally:
        client.close()
    return image


@pytest.fixture(autouse=True, scope="session")
def _docker_is_usable(test_image: str) -> None:
    """Fail every test up front, with how to fix it, when Docker or the image is missing."""
