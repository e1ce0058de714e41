"""Private-call authentication exactly as Kraken does it: API key, API-Sign, then the nonce."""

from __future__ import annotations

from collections.abc import Mapping

from seraphim.adapters.kraken.common.signing import verify_signature
from seraphim.sim.kraken.accounts import Account
from seraphim.sim.kraken.matching import KrakenError

MAX_NONCE = 2**64 - 1


def authenticate(
    accounts: Mapping[str, Account],
    api_key: str | None,
    api_sign: str | None,
    uri_path: str,
    body: bytes,
    nonce: object,
) -> Account:
    """
    Return the account a signed request belongs to, or raise ``KrakenError`` with Kraken's
    ``EAPI:Invalid key`` / ``EAPI:Invalid signature`` / ``EAPI:Invalid nonce``. The nonce is
    recorded only for a correctly signed request.
    """
    account = accounts.get(api_key or "")
    if account is None:
        raise KrakenError("EAPI:Invalid key")
    text = str(nonce) if nonce is not None else ""
    if not text.isdigit() or int(text) > MAX_NONCE:
        raise KrakenError("EAPI:Invalid nonce")
    if not api_sign or not verify_signature(uri_path, body, text, account.secret, api_sign):
        raise KrakenError("EAPI:Invalid signature")
    value = int(text)
    if value <= account.last_nonce:
        raise KrakenError("EAPI:Invalid nonce")
    account.last_nonce = value
    return account
