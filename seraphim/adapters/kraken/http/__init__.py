"""Kraken Spot REST: signed, nonce-serialised, rate-limited HTTP client and error mapping."""
