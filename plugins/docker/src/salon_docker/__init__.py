"""salon-docker: DockerCommandLineCodeExecutor for Salon: code runs in a locked-down Docker container."""

from __future__ import annotations

__version__ = "0.1.0"

__all__: list[str] = []
