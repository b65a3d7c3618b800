"""The ``redis`` cache store's options, validated by Salon when a config says ``use: redis``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = ["RedisStoreConfig"]


class RedisStoreConfig(BaseModel):
    """Options of the ``redis`` cache store.

    AutoGen's ``RedisStoreConfig`` spells the connection out (host, port, db, username, password, ssl);
    here it is one URL, which carries all of them and TLS (``rediss://``) and is kept secret because it
    may hold a password.
    """

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    """The server, as a redis-py URL: ``redis://[[user]:password@]host[:port][/db]``, ``rediss://`` for TLS."""

    prefix: str = "salon:cache:"
    """Put before every key, so that several applications or models can share one database."""

    ttl: float | None = Field(default=None, gt=0)
    """Seconds an entry lives after it is written; unset means entries never expire."""
