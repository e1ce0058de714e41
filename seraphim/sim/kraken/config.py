"""Configuration of the local Kraken exchange."""

from __future__ import annotations

import os
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from pathlib import Path
from typing import Any

from seraphim.sim.kraken.clock import Clock


@dataclass
class AccountConfig:
    """An API key the exchange accepts, with its starting balances (Kraken asset ids)."""

    api_key: str
    api_secret: str = field(repr=False)  # base64, as Kraken issues it
    balances: dict[str, str | Decimal] | None = None  # None: generous defaults for every asset
    tier: str = "starter"  # starter | intermediate | pro
    volume_30d: Decimal = Decimal(0)

    @classmethod
    def from_env(cls, **kwargs: Any) -> AccountConfig | None:
        """From ``KRAKEN_API_KEY`` / ``KRAKEN_API_SECRET`` when both are set."""
        key, secret = os.environ.get("KRAKEN_API_KEY"), os.environ.get("KRAKEN_API_SECRET")
        if not key or not secret:
            return None
        return cls(key, secret, **kwargs)


@dataclass
class SimConfig:
    """Everything the server needs; the defaults suit a test (ephemeral port, seeded walk)."""

    host: str = "127.0.0.1"
    port: int = 0  # REST, public WebSocket /v2, /_sim/*
    auth_ws_port: int = 0  # private WebSocket /v2 (Kraken's ws-auth host)
    pairs: list[str] = field(default_factory=lambda: ["BTC/USD", "ETH/USD"])
    seed: int = 1
    accounts: list[AccountConfig] = field(default_factory=list)
    clock: Clock | None = None  # None: wall clock
    # v2 symbol (or any pair spelling) -> market source; pairs without one get a random walk.
    sources: dict[str, Any] = field(default_factory=dict)
    random_walk: dict[str, Any] = field(default_factory=dict)  # RandomWalkSource kwargs
    tick_interval: float = 0.1  # real seconds between clock polls
    heartbeat_interval: float = 1.0
    rate_limits: bool = True
    token_ttl: float = 900.0
    asset_pairs_file: Path | None = None
    control: bool = True  # the /_sim/* inspection and control endpoints
