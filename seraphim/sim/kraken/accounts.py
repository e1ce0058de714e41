"""
Client accounts and what they hold: API credentials, balances and their ledger, orders (with the
funds an open order reserves) and the account's side of each fill.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal

from seraphim.sim.kraken.fmt import fixed
from seraphim.sim.kraken.instruments import SimPair
from seraphim.sim.kraken.ratelimit import RestCounter
from seraphim.sim.kraken.ratelimit import TradingCounter

ZERO = Decimal(0)
FEE_VOLUME_WINDOW = 30 * 86400.0
ORDER_TYPES = frozenset(
    {
        "market",
        "limit",
        "iceberg",
        "stop-loss",
        "take-profit",
        "stop-loss-limit",
        "take-profit-limit",
        "trailing-stop",
    }
)
LIMIT_TYPES = frozenset({"limit", "iceberg"})
STOP_TYPES = frozenset(
    {"stop-loss", "take-profit", "stop-loss-limit", "take-profit-limit", "trailing-stop"}
)


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


@dataclass
class OrderRequest:
    """A validated-shape order request, from REST AddOrder or WS add_order."""

    pair: SimPair
    side: str
    ordertype: str
    volume: Decimal
    price: Decimal | None = None
    price2: Decimal | None = None
    post_only: bool = False
    fee_in_base: bool = False
    timeinforce: str = "GTC"
    expiretm: float | None = None
    userref: int | None = None
    cl_ord_id: str | None = None
    trigger: str = "last"
    source: str = "rest"
    offset_pct: bool = False  # trailing-stop: ``price`` is a percentage of the peak
    displayvol: Decimal | None = None  # iceberg: the quantity the book shows


@dataclass(eq=False)
class Order:
    """A client order and its execution state."""

    txid: str
    account: Account
    pair: SimPair
    side: str
    ordertype: str
    volume: Decimal
    price: Decimal | None
    price2: Decimal | None
    post_only: bool
    fee_in_base: bool
    timeinforce: str
    expiretm: float | None
    userref: int | None
    cl_ord_id: str | None
    opentm: float
    fee_reserve: Decimal  # taker rate reserved in the hold of a buy
    trigger: str = "last"
    status: str = "pending"
    vol_exec: Decimal = ZERO
    cost: Decimal = ZERO
    fee: Decimal = ZERO
    closetm: float | None = None
    reason: str | None = None
    triggered: bool = False
    trade_ids: list[str] = field(default_factory=list)
    resting_price: Decimal | None = None
    amended: bool = False
    offset_pct: bool = False
    displayvol: Decimal | None = None
    peak: Decimal | None = None  # trailing-stop: best last price since it was placed
    amends: list[dict] = field(default_factory=list)  # OrderAmends history

    @property
    def is_buy(self) -> bool:
        """True for buys."""
        return self.side == "buy"

    @property
    def remaining(self) -> Decimal:
        """Volume still to fill."""
        return self.volume - self.vol_exec

    @property
    def is_stop(self) -> bool:
        """A triggered order type (stop-loss, take-profit and -limit)."""
        return self.ordertype in STOP_TYPES

    @property
    def displayed(self) -> Decimal:
        """What the public book shows of it (an iceberg shows at most ``displayvol``)."""
        if self.displayvol is None:
            return self.remaining
        return min(self.remaining, self.displayvol)

    def trail_stop(self) -> Decimal | None:
        """A trailing stop's current trigger price: the peak moved against by the offset."""
        if self.peak is None or self.price is None:
            return None
        offset = self.peak * self.price / 100 if self.offset_pct else self.price
        return self.peak + offset if self.is_buy else self.peak - offset

    @property
    def limit_price(self) -> Decimal | None:
        """The price it rests or takes at once live (None: market)."""
        if self.ordertype in LIMIT_TYPES:
            return self.price
        if self.ordertype.endswith("-limit"):
            return self.price2
        return None

    @property
    def book_price(self) -> Decimal:
        """The price level it rests at."""
        assert self.resting_price is not None
        return self.resting_price

    @property
    def avg_price(self) -> Decimal:
        """Average fill price."""
        return self.cost / self.vol_exec if self.vol_exec else ZERO

    @property
    def oflags(self) -> str:
        """Kraken's comma list of order flags."""
        flags = ["fcib" if self.fee_in_base else "fciq"]
        if self.post_only:
            flags.append("post")
        return ",".join(flags)

    def hold(self) -> tuple[str, Decimal]:
        """(asset, amount) this open order reserves."""
        if self.is_buy:
            ref = self.limit_price if self.limit_price is not None else self.price
            if self.ordertype == "trailing-stop":
                ref = self.trail_stop()
            amount = self.remaining * (ref or ZERO)
            if not self.fee_in_base:
                amount *= 1 + self.fee_reserve
            return self.pair.quote.asset_id, amount
        amount = self.remaining
        if self.fee_in_base:
            amount *= 1 + self.fee_reserve
        return self.pair.base.asset_id, amount

    def describe(self) -> str:
        """Kraken's ``descr.order`` text: ``buy 1.25000000 XBTUSD @ limit 37500.0``."""
        vol = fixed(self.volume, self.pair.lot_decimals)
        text = f"{self.side} {vol} {self.pair.altname} @ "
        p = self.pair.price_decimals
        if self.ordertype == "market":
            return text + "market"
        if self.ordertype in LIMIT_TYPES:
            return text + f"{self.ordertype} {fixed(self.price or ZERO, p)}"
        if self.ordertype == "trailing-stop":
            offset = f"{self.price}%" if self.offset_pct else fixed(self.price or ZERO, p)
            return text + f"trailing stop +{offset}"
        kind = self.ordertype.replace("-limit", "").replace("-", " ")
        text += f"{kind} {fixed(self.price or ZERO, p)}"
        if self.ordertype.endswith("-limit"):
            text += f" -> limit {fixed(self.price2 or ZERO, p)}"
        return text


@dataclass
class PrivateTrade:
    """One side of a fill as the account sees it (TradesHistory)."""

    txid: str
    ordertxid: str
    postxid: str
    pair: SimPair
    time: float
    side: str
    ordertype: str
    price: Decimal
    cost: Decimal
    fee: Decimal
    fee_asset: str
    vol: Decimal
    maker: bool
    trade_id: int
    ledgers: list[str] = field(default_factory=list)
