"""
The local IB gateway as a venue, apart from its listener: contracts, market, history, accounts,
the matching engine and fault switches. The session handlers read and act on this; ``server.py``
only accepts connections and turns engine events into wire messages.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from pathlib import Path
from typing import Any

from seraphim.sim.ibkr.account import Account
from seraphim.sim.ibkr.contracts import NEW_YORK
from seraphim.sim.ibkr.contracts import ContractQuery
from seraphim.sim.ibkr.contracts import ContractSpec
from seraphim.sim.ibkr.contracts import ContractUniverse
from seraphim.sim.ibkr.faults import Faults
from seraphim.sim.ibkr.faults import ScheduledFault
from seraphim.sim.ibkr.history import HistoryBuilder
from seraphim.sim.ibkr.market import Market
from seraphim.sim.ibkr.market import round_to_tick
from seraphim.sim.ibkr.market import unit_hash
from seraphim.sim.ibkr.matching import Execution
from seraphim.sim.ibkr.matching import MatchingEngine
from seraphim.sim.ibkr.matching import MatchingListener
from seraphim.sim.ibkr.matching import SimOrder
from seraphim.sim.ibkr.messages import SERVER_VERSION

DEFAULT_PORT = 4010


@dataclass
class IbkrSimConfig:
    """Everything that shapes one gateway instance."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    seed: int = 1
    accounts: tuple[str, ...] = ("DU1234567",)
    initial_cash: float = 1_000_000.0
    base_currency: str = "USD"
    catalog: str | Path | None = None
    contracts: Mapping[str, Any] | None = None
    clock: Callable[[], float] = time.time
    tick_interval: float = 0.25
    pacing: bool = False
    permissions: Mapping[str, str] = field(default_factory=dict)
    server_version: int = SERVER_VERSION
    restart_at: str | None = None
    restart_downtime: float = 60.0
    faults: tuple[ScheduledFault, ...] = ()
    around_the_clock: bool = False


class IbkrSimVenue:
    """The gateway's state and the facts its sessions answer from."""

    def __init__(self, config: IbkrSimConfig, listener: MatchingListener) -> None:
        self.config = config
        self.clock: Callable[[], float] = config.clock
        self.server_version = config.server_version
        as_of = dt.datetime.fromtimestamp(self.clock(), NEW_YORK).date()
        self.universe = ContractUniverse.from_config(
            config.contracts, as_of=as_of, around_the_clock=config.around_the_clock
        )
        catalog = None
        if config.catalog is not None:
            from seraphim.sim.ibkr.catalog_source import CatalogPrices

            catalog = CatalogPrices.open(Path(config.catalog), self.universe)
        self.market = Market(self.universe, config.seed, catalog, as_of=as_of)
        self.history = HistoryBuilder(self.market)
        self.accounts: dict[str, Account] = {
            a: Account(a, currency=config.base_currency, cash=config.initial_cash)
            for a in config.accounts
        }
        self.faults = Faults()
        self.faults.pacing.enabled = config.pacing
        for symbol, level in config.permissions.items():
            self.faults.set_permission(symbol, level)
        self.engine = MatchingEngine(
            self.market, self.accounts, self.clock, seed=config.seed, listener=listener
        )
        self.requests_seen: dict[int, int] = {}

    @property
    def account_ids(self) -> list[str]:
        """Managed accounts, in configuration order."""
        return list(self.accounts)

    def connection_time_text(self) -> str:
        """The handshake's connection time, e.g. ``20250102 09:30:00 EST``."""
        return dt.datetime.fromtimestamp(self.clock(), NEW_YORK).strftime("%Y%m%d %H:%M:%S %Z")

    def find_contracts(self, q: ContractQuery) -> list[ContractSpec]:
        """Universe lookup, minus symbols hidden by a fault."""
        hidden = self.faults.unknown_symbols
        return [c for c in self.universe.find(q) if c.symbol not in hidden]

    def mark(self, spec: ContractSpec) -> float:
        """Mark price used for account values."""
        return round_to_tick(self.market.mid(spec, self.clock()), spec.min_tick)

    def day_volume(self, spec: ContractSpec, t: float) -> float:
        """Cumulative volume so far today (deterministic)."""
        seconds = t % 86_400
        u = unit_hash(self.config.seed, spec.con_id, int(t // 86_400), "vol")
        if spec.sec_type == "CRYPTO":
            return round(seconds / 60 * (0.5 + u), 4)
        return float(int(seconds / 60 * (0.5 + u) * 5000 / 100) * 100)

    def head_timestamp(self, spec: ContractSpec) -> float | None:
        """Earliest data time from the catalog, when it covers the contract."""
        catalog = self.market.catalog
        if catalog is not None and catalog.covers(spec):
            return catalog.first_time(spec)
        return None

    # -- the gateway's own record ---------------------------------------------------------------

    @property
    def orders(self) -> list[SimOrder]:
        """Every order ever placed, in placement order."""
        return list(self.engine.orders.values())

    @property
    def executions(self) -> list[Execution]:
        """Every execution, in time order."""
        return list(self.engine.executions)

    def account(self, account: str | None = None) -> Account:
        """One account's record (the first managed account by default)."""
        return self.accounts[account or self.account_ids[0]]

    def positions(self, account: str | None = None) -> dict[str, Decimal]:
        """Non-zero positions by local symbol, for one account or the first."""
        acct = self.account(account)
        return {p.spec.local_symbol: p.quantity for p in acct.positions.values() if p.quantity != 0}

    def account_values(self, account: str | None = None) -> dict[str, float]:
        """Account values at current marks."""
        return self.account(account).values(self.mark)
