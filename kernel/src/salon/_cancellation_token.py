"""Cooperative cancellation shared between a caller and the handlers working for it."""

from __future__ import annotations

import threading
from asyncio import Future
from collections.abc import Callable
from typing import Any

__all__ = ["CancellationToken"]


class CancellationToken:
    """A one-shot flag that cancels linked futures and runs callbacks when set.

    The runtime gives every message a token: cancelling it cancels the caller's pending response and
    the handler's work (futures it linked, and the handler itself while it is suspended).
    Thread-safe: :meth:`cancel` may be called from any thread; callbacks run on the caller's thread.
    """

    __slots__ = ("_callbacks", "_cancelled", "_lock")

    def __init__(self) -> None:
        self._cancelled = False
        self._callbacks: list[Callable[[], object]] | None = None
        self._lock: threading.Lock | None = None

    def _get_lock(self) -> threading.Lock:
        lock = self._lock
        if lock is None:
            lock = self._lock = threading.Lock()
        return lock

    def cancel(self) -> None:
        """Set the token and run every registered callback once. Later calls do nothing."""
        with self._get_lock():
            if self._cancelled:
                return
            self._cancelled = True
            callbacks, self._callbacks = self._callbacks, None
        for callback in callbacks or ():
            callback()

    def is_cancelled(self) -> bool:
        """Return whether :meth:`cancel` was called."""
        return self._cancelled

    def add_callback(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` on cancellation (at once if the token is already cancelled)."""
        with self._get_lock():
            if not self._cancelled:
                if self._callbacks is None:
                    self._callbacks = []
                self._callbacks.append(callback)
                return
        callback()

    def link_future(self, future: Future[Any]) -> Future[Any]:
        """Cancel ``future`` when this token is cancelled; return ``future`` for chaining."""
        if self._cancelled:
            future.cancel()
        else:
            self.add_callback(future.cancel)
        return future
