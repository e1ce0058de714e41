"""
The local Kraken exchange as a venue, apart from any network listener: the exchange (books,
orders, accounts), its market sources, fault injection, WebSocket tokens and asset facts. The
REST and WebSocket handlers talk to this; ``server.py`` only listens and dispatches.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from seraphim.sim.kraken.accounts import Account
from seraphim.sim.kraken.clock import WallClock
from seraphim.sim.kraken.config import AccountConfig
from seraphim.sim.kraken.config import SimConfig
from seraphim.sim.kraken.faults import Faults
from seraphim.sim.kraken.instruments import AssetInfo
from seraphim.sim.kraken.instruments import asset_info
from seraphim.sim.kraken.instruments import load_sim_pairs
from seraphim.sim.kraken.market import RandomWalkSource
from seraphim.sim.kraken.matching import Exchange

FIAT_DEFAULT = Decimal(100_000)
CRYPTO_DEFAULT = Decimal(10)


class KrakenSimVenue:
    """The exchange's state and the services its handlers share."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.clock = config.clock or WallClock()
        pairs = load_sim_pairs(config.pairs, config.asset_pairs_file)
        self.exchange = Exchange(
            pairs, self.clock, seed=config.seed, rate_limits=config.rate_limits
        )
        self.faults = Faults()
        self.faults.status_handler = self.exchange.set_status
        self.sources: dict[str, Any] = {}
        for name, source in config.sources.items():
            self.sources[self.exchange.find_pair(name).key] = source
        for pair in pairs:
            if pair.key not in self.sources:
                self.sources[pair.key] = RandomWalkSource(seed=config.seed, **config.random_walk)
        for account_config in config.accounts:
            self.add_account(account_config)
        self._tokens: dict[str, tuple[Account, float]] = {}

    def add_account(self, config: AccountConfig) -> Account:
        """Open an account (default balances: 100,000 of each fiat asset, 10 of each other)."""
        account = Account(config.api_key, config.api_secret, tier=config.tier)
        account.volume_30d = Decimal(config.volume_30d)
        balances = config.balances
        if balances is None:
            balances = {}
            for asset_id in self.exchange.assets():
                fiat = asset_id.startswith("Z") or asset_id in ("USDT", "USDC")
                balances[asset_id] = FIAT_DEFAULT if fiat else CRYPTO_DEFAULT
        for asset, amount in balances.items():
            account.balances[asset] = Decimal(str(amount))
        self.exchange.add_account(account)
        return account

    def seed_markets(self) -> None:
        """Start every market source at the current time."""
        now = self.clock.now()
        for key, source in self.sources.items():
            source.start(self.exchange, self.exchange.pairs[key], now)

    def tick(self) -> None:
        """Apply the exchange time: scheduled faults, market sources, expiries."""
        self.faults.run_due(self.clock.now())
        self.exchange.advance(self.sources)

    # ------------------------------------------------------------ tokens and assets

    def issue_token(self, account: Account) -> str:
        """A WebSocket token for the account (valid ``token_ttl`` seconds until first use)."""
        token = self.exchange.ids.token()
        self._tokens[token] = (account, self.exchange.now() + self.config.token_ttl)
        return token

    def account_for_token(self, token: str) -> Account | None:
        """The account a token belongs to, if valid."""
        entry = self._tokens.get(token)
        if entry is None:
            return None
        account, expires = entry
        if expires < self.exchange.now():
            del self._tokens[token]
            return None
        return account

    def asset(self, asset_id: str) -> AssetInfo:
        """Asset facts by Kraken id."""
        known = self.exchange.assets().get(asset_id)
        return known if isinstance(known, AssetInfo) else asset_info(asset_id)

    def asset_decimals(self, asset_id: str) -> int:
        """Balance precision of an asset."""
        return self.asset(asset_id).decimals
