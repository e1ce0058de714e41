"""
Kraken Spot REST request signing (shared by the adapter and the local exchange).

``API-Sign = base64(HMAC-SHA512(base64decode(secret), uri_path + SHA256(nonce + postdata)))``
where ``postdata`` is exactly the body sent (form-encoded or JSON) and contains the nonce.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time


def sign_request(uri_path: str, postdata: str | bytes, nonce: int | str, secret_b64: str) -> str:
    """
    Return the ``API-Sign`` header value for a private request.

    ``uri_path`` is e.g. ``/0/private/AddOrder``; ``postdata`` the exact body bytes or text;
    ``secret_b64`` the API secret as Kraken issues it (base64). Raises ``ValueError`` when the
    secret is not valid base64 (without echoing the secret).
    """
    if isinstance(postdata, str):
        postdata = postdata.encode()
    try:
        secret = base64.b64decode(secret_b64, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("API secret is not valid base64") from None
    digest = hashlib.sha256(str(nonce).encode() + postdata).digest()
    mac = hmac.new(secret, uri_path.encode() + digest, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


def verify_signature(
    uri_path: str, postdata: str | bytes, nonce: int | str, secret_b64: str, signature: str
) -> bool:
    """Constant-time check of an ``API-Sign`` value; False for any malformed input."""
    try:
        expected = sign_request(uri_path, postdata, nonce, secret_b64)
    except ValueError:
        return False
    return hmac.compare_digest(expected.encode(), signature.strip().encode())


def make_nonce() -> int:
    """A nonce from the wall clock in milliseconds (the usual, ever-increasing choice)."""
    return time.time_ns() // 1_000_000
