"""Shared by the whole Kraken adapter: constants, credentials, signing, rate limits, pairs."""
