"""
Kraken's error strings mapped to exception classes.

Kraken answers most failures with HTTP 200 and a non-empty ``error`` list such as
``EOrder:Insufficient funds``; the class tells a caller what it may do next (retry later, give
up, fix the credentials). No exception here ever carries a request body or a credential.
"""

from __future__ import annotations


class KrakenError(Exception):
    """Base class of every error the Kraken adapter raises."""

    retryable: bool = False

    def __init__(self, message: str, *, method: str | None = None) -> None:
        self.method = method
        prefix = f"Kraken {method}: " if method else "Kraken: "
        super().__init__(prefix + message)


class KrakenApiError(KrakenError):
    """The venue answered with error strings (``errors`` keeps them all)."""

    def __init__(self, errors: list[str], *, method: str | None = None) -> None:
        self.errors = list(errors)
        self.code = self.errors[0] if self.errors else "EGeneral:Unknown error"
        super().__init__(", ".join(self.errors) or self.code, method=method)


class KrakenAuthError(KrakenApiError):
    """Bad API key, signature, nonce or permissions: retrying with the same key will not help."""


class KrakenNonceError(KrakenAuthError):
    """``EAPI:Invalid nonce``: the request was refused before processing (safe to resend)."""

    retryable = True


class KrakenRateLimitError(KrakenApiError):
    """``EAPI:Rate limit exceeded``, ``EOrder:Rate limit exceeded`` or ``EService:Throttled``."""

    retryable = True


class KrakenServiceError(KrakenApiError):
    """``EService:Unavailable`` / ``EService:Busy`` / an HTTP 5xx: the venue could not serve it."""

    retryable = True

    def __init__(
        self, errors: list[str], *, method: str | None = None, status: int | None = None
    ) -> None:
        self.status = status
        super().__init__(errors, method=method)


class KrakenOrderError(KrakenApiError):
    """An order refused by the venue (``EOrder:...``, invalid arguments, unknown pair)."""


class KrakenTransportError(KrakenError):
    """The request did not complete: connection refused or reset, timeout, unreadable answer."""

    retryable = True


class KrakenAmbiguousError(KrakenTransportError):
    """
    A non-idempotent request (e.g. AddOrder) was sent but its answer was lost: the venue may or
    may not have acted on it. Never resend; reconcile with the venue instead.
    """

    retryable = False


class KrakenConfigError(KrakenError):
    """A configuration that cannot work (missing credentials, bad URL, unknown pair)."""


_AUTH = ("EAPI:Invalid key", "EAPI:Invalid signature", "EGeneral:Permission denied")
_RATE = ("EAPI:Rate limit exceeded", "EOrder:Rate limit exceeded", "EService:Throttled")
_SERVICE = ("EService:Unavailable", "EService:Busy", "EService:Market in", "EGeneral:Internal")


def error_from_strings(errors: list[str], method: str | None = None) -> KrakenApiError:
    """The exception class for Kraken's error list (the first error decides)."""
    first = errors[0] if errors else ""
    if first.startswith("EAPI:Invalid nonce"):
        return KrakenNonceError(errors, method=method)
    if first.startswith(_AUTH):
        return KrakenAuthError(errors, method=method)
    if first.startswith(_RATE):
        return KrakenRateLimitError(errors, method=method)
    if first.startswith("EService:Market in"):  # cancel_only / post_only: a refusal, not an outage
        return KrakenOrderError(errors, method=method)
    if first.startswith(_SERVICE):
        return KrakenServiceError(errors, method=method)
    if first.startswith(("EOrder:", "EGeneral:Invalid arguments", "EQuery:", "EFunding:")):
        return KrakenOrderError(errors, method=method)
    return KrakenApiError(errors, method=method)
