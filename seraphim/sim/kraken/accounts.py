"""Client accounts: API credentials, balances and the holds of open orders."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from typing import TYPE_CHECKING

from seraphim.sim.kraken.ratelimit import RestCounter
from seraphim.sim.kraken.ratelimit import TradingCounter

if TYPE_CHECKING:
    from seraphim.sim.kraken.matching import Order
    from seraphim.sim.kraken.matching import PrivateTrade

ZERO = Decimal(0)
FEE_VOLUME_WINDOW = 30 * 86400.0


@dataclass
class LedgerEntry:
    """One balance movement (Kraken's ledger)."""

    ledger_id: str
    refid: str
    time: float
    type: str  # trade | deposit
    asset: str
    amount: Decimal
    fee: Decimal
    balance: Decimal


@dataclass
class Account:
    """One API key's account. The secret never leaves this object (not in repr or state)."""

    api_key: str
    secret: str = field(repr=False)
    tier: str = "starter"
    balances: dict[str, Decimal] = field(default_factory=dict)
    volume_30d: Decimal = ZERO
    last_nonce: int = 0
    orders: dict[str, Order] = field(default_factory=dict)
    trades: dict[str, PrivateTrade] = field(default_factory=dict)
    ledger: list[LedgerEntry] = field(default_factory=list)
    dead_man_deadline: float | None = None
    rest_counter: RestCounter | None = None
    trading_counters: dict[str, TradingCounter] = field(default_factory=dict)
    # Fills of the last 30 days in the fee volume currency (USD): (time, value), oldest first.
    _recent_volume: deque[tuple[float, Decimal]] = field(default_factory=deque, repr=False)
    _recent_total: Decimal = field(default=ZERO, repr=False)

    def add_volume(self, time: float, value: Decimal) -> None:
        """Count a fill's USD value toward the 30-day volume that sets the fee tier."""
        self._recent_volume.append((time, value))
        self._recent_total += value

    def fee_volume(self, now: float) -> Decimal:
        """
        30-day volume for the fee tier: the configured starting volume plus the fills of the
        30 days before ``now`` (the fills of this very moment, e.g. of the same order, count
        from the next one).
        """
        recent = self._recent_volume
        while recent and recent[0][0] <= now - FEE_VOLUME_WINDOW:
            self._recent_total -= recent.popleft()[1]
        same_moment = ZERO
        for time, value in reversed(recent):
            if time < now:
                break
            same_moment += value
        return self.volume_30d + self._recent_total - same_moment

    def open_orders(self) -> list[Order]:
        """Open (and pending) orders, oldest first."""
        return [o for o in self.orders.values() if o.status in ("pending", "open")]

    def hold(self, asset: str) -> Decimal:
        """Funds reserved by open orders."""
        total = ZERO
        for order in self.open_orders():
            hold_asset, amount = order.hold()
            if hold_asset == asset:
                total += amount
        return total

    def balance(self, asset: str) -> Decimal:
        """Total balance of an asset."""
        return self.balances.get(asset, ZERO)

    def available(self, asset: str) -> Decimal:
        """Balance minus holds."""
        return self.balance(asset) - self.hold(asset)

    def change(
        self,
        asset: str,
        amount: Decimal,
        *,
        fee: Decimal,
        refid: str,
        time: float,
        kind: str,
        make_id: Callable[[], str],
    ) -> LedgerEntry:
        """Move a balance and record the ledger entry (``amount`` excludes ``fee``)."""
        new_balance = self.balance(asset) + amount - fee
        self.balances[asset] = new_balance
        entry = LedgerEntry(make_id(), refid, time, kind, asset, amount, fee, new_balance)
        self.ledger.append(entry)
        return entry

    def trading_counter(
        self, pair_key: str, factory: Callable[[], TradingCounter]
    ) -> TradingCounter:
        """The per-pair trading rate counter."""
        counter = self.trading_counters.get(pair_key)
        if counter is None:
            counter = self.trading_counters[pair_key] = factory()
        return counter
