"""
Kraken API credentials, read from the environment (never from a committed file).

The secret is held in a :class:`Secret`, whose ``repr``/``str`` never show it and which cannot
be pickled, so it cannot leak into a log line, an exception, the nautilus cache or Redis.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass

from seraphim.adapters.kraken.common.errors import KrakenConfigError

DEFAULT_KEY_ENV = "KRAKEN_API_KEY"
DEFAULT_SECRET_ENV = "KRAKEN_API_SECRET"


class Secret:
    """A string that does not show itself; ``reveal()`` is the only way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself (for signing only)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret(********)"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self):
        raise TypeError("a Secret cannot be pickled")


@dataclass(frozen=True)
class Credentials:
    """An API key and its secret."""

    api_key: str
    api_secret: Secret

    def __repr__(self) -> str:
        return f"Credentials(api_key={mask_key(self.api_key)!r}, api_secret=Secret(********))"


def mask_key(api_key: str) -> str:
    """The first and last characters of an API key, for log lines."""
    if len(api_key) <= 8:
        return "****"
    return f"{api_key[:4]}...{api_key[-4:]}"


def credentials_from_env(
    api_key: str | None = None,
    key_env: str = DEFAULT_KEY_ENV,
    secret_env: str = DEFAULT_SECRET_ENV,
    *,
    required: bool = True,
) -> Credentials | None:
    """
    The key (``api_key`` if given, else ``$key_env``) and the secret from ``$secret_env``.

    Raises ``KrakenConfigError`` naming the missing variable when ``required``; checks that the
    secret is base64 (as Kraken issues it) without ever echoing it.
    """
    key = api_key or os.environ.get(key_env, "")
    secret = os.environ.get(secret_env, "")
    if not key or not secret:
        if not required:
            return None
        missing = [name for name, value in ((key_env, key), (secret_env, secret)) if not value]
        raise KrakenConfigError(
            "Kraken API credentials missing: set "
            + " and ".join(missing)
            + " in the environment (never in a config file)"
        )
    try:
        base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        raise KrakenConfigError(
            f"${secret_env} is not valid base64 (Kraken secrets are base64 text)"
        ) from None
    return Credentials(key, Secret(secret))
