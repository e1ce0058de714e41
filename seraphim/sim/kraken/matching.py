"""
The matching engine: one price-time-priority book per pair, the exchange's own liquidity from a
market source, clients' orders (market, limit, post-only, IOC, GTD, stop-loss/take-profit and
their -limit variants), partial fills, maker/taker fees by tier and balances with holds.

Every mutating call is one synchronous operation; at its end the events it produced are handed
to the listeners (the WebSocket layers) in order, followed by the set of books that changed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from decimal import ROUND_HALF_UP
from decimal import Decimal

from seraphim.adapters.kraken.common.rate_limits import amend_cost
from seraphim.adapters.kraken.common.rate_limits import cancel_cost
from seraphim.sim.kraken.accounts import LIMIT_TYPES
from seraphim.sim.kraken.accounts import ORDER_TYPES
from seraphim.sim.kraken.accounts import Account
from seraphim.sim.kraken.accounts import LedgerEntry
from seraphim.sim.kraken.accounts import Order
from seraphim.sim.kraken.accounts import OrderRequest
from seraphim.sim.kraken.accounts import PrivateTrade
from seraphim.sim.kraken.book import BookSide
from seraphim.sim.kraken.book import Level
from seraphim.sim.kraken.book import OrderBook
from seraphim.sim.kraken.clock import Clock
from seraphim.sim.kraken.fmt import IdFactory
from seraphim.sim.kraken.fmt import decimals_of
from seraphim.sim.kraken.fmt import fixed
from seraphim.sim.kraken.fmt import quantize
from seraphim.sim.kraken.instruments import SimPair
from seraphim.sim.kraken.ratelimit import OPEN_ORDER_LIMITS
from seraphim.sim.kraken.ratelimit import TradingCounter
from seraphim.sim.kraken.stats import PublicTrade
from seraphim.sim.kraken.stats import TapeStats

ZERO = Decimal(0)
TIMES_IN_FORCE = ("GTC", "IOC", "GTD", "FOK")
SYSTEM_STATUSES = ("online", "maintenance", "cancel_only", "post_only")
FEE_VOLUME_ASSET = "ZUSD"  # AssetPairs ``fee_volume_currency``


class KrakenError(Exception):
    """A request refused with one of Kraken's error strings (``EOrder:Insufficient funds``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class ExecEvent:
    """An order's execution report (the v2 ``executions`` channel)."""

    account: Account
    order: Order
    exec_type: str  # pending_new|new|trade|filled|canceled|expired|amended|status
    time: float
    trade: PrivateTrade | None = None
    reason: str | None = None
    # The order as it stood when the event happened (it may change before listeners run).
    status: str = field(init=False)
    volume: Decimal = field(init=False)
    cum_qty: Decimal = field(init=False)
    cum_cost: Decimal = field(init=False)
    fee: Decimal = field(init=False)
    limit_price: Decimal | None = field(init=False)
    trigger_price: Decimal | None = field(init=False)

    def __post_init__(self) -> None:
        order = self.order
        self.status = order.status
        self.volume = order.volume
        self.cum_qty = order.vol_exec
        self.cum_cost = order.cost
        self.fee = order.fee
        self.limit_price = order.limit_price
        self.trigger_price = order.price if order.is_stop else None

    @property
    def avg_price(self) -> Decimal:
        """Average fill price at the time of the event."""
        return self.cum_cost / self.cum_qty if self.cum_qty else ZERO


@dataclass
class BalanceEvent:
    """A balance movement (the v2 ``balances`` channel)."""

    account: Account
    entry: LedgerEntry


@dataclass
class TradeEvent:
    """A print on a pair's public tape."""

    pair: SimPair
    trade: PublicTrade


@dataclass
class StatusEvent:
    """The system status changed."""

    status: str


Event = ExecEvent | BalanceEvent | TradeEvent | StatusEvent
Listener = Callable[[list[Event], set[str]], None]


class Exchange:
    """The exchange's state and rules, independent of any transport."""

    def __init__(
        self,
        pairs: list[SimPair],
        clock: Clock,
        *,
        seed: int | None = None,
        rate_limits: bool = True,
    ) -> None:
        self.clock = clock
        self.pairs: dict[str, SimPair] = {p.key: p for p in pairs}
        self.books: dict[str, OrderBook] = {
            p.key: OrderBook(p.price_decimals, p.lot_decimals) for p in pairs
        }
        self.ids = IdFactory(seed)
        self.accounts: dict[str, Account] = {}
        self.orders: dict[str, Order] = {}
        self.tape: dict[str, list[PublicTrade]] = {p.key: [] for p in pairs}
        self.stats: dict[str, TapeStats] = {p.key: TapeStats() for p in pairs}
        self.last_price: dict[str, Decimal | None] = {p.key: None for p in pairs}
        self.status = "online"
        self.status_time = clock.now()
        self.rate_limits = rate_limits
        self.listeners: list[Listener] = []
        self._events: list[Event] = []
        self._dirty: set[str] = set()
        self._traded: set[str] = set()
        self._trade_ids = {p.key: itertools.count(1) for p in pairs}
        self._stops: dict[str, list[Order]] = {p.key: [] for p in pairs}
        # Best bid/ask history (Spread) and when each visible level last changed (Depth).
        self.spreads: dict[str, list[tuple[float, Decimal, Decimal]]] = {p.key: [] for p in pairs}
        self.level_times: dict[str, dict[tuple[str, Decimal], float]] = {p.key: {} for p in pairs}
        self._level_qty: dict[str, dict[tuple[str, Decimal], Decimal]] = {p.key: {} for p in pairs}

    # ----------------------------------------------------------------- lookups

    def now(self) -> float:
        """Exchange time."""
        return self.clock.now()

    def add_account(self, account: Account) -> None:
        """Register an API key."""
        self.accounts[account.api_key] = account

    def find_pair(self, name: str) -> SimPair:
        """A listed pair by any spelling, else ``EQuery:Unknown asset pair``."""
        pair = self.pair_by_symbol(name)
        if pair is None:
            raise KrakenError("EQuery:Unknown asset pair")
        return pair

    def pair_by_symbol(self, symbol: str) -> SimPair | None:
        """A listed pair by any spelling Kraken accepts (``BTC/USD``, ``BTCUSD``, ``XBTUSD``...)."""
        for pair in self.pairs.values():
            if pair.matches(symbol):
                return pair
        return None

    def value_of(self, asset: str, target: str) -> Decimal:
        """Price of one ``asset`` in ``target`` from the books' mids (0 when no route)."""
        if asset == target:
            return Decimal(1)
        for pair in self.pairs.values():
            mid = self.books[pair.key].mid()
            if mid is None:
                continue
            if pair.base.asset_id == asset and pair.quote.asset_id == target:
                return mid
            if pair.quote.asset_id == asset and pair.base.asset_id == target:
                return 1 / mid
        return Decimal(0)

    def assets(self) -> dict[str, object]:
        """Every asset of the listed pairs, Kraken id -> AssetInfo."""
        out: dict[str, object] = {}
        for pair in self.pairs.values():
            out[pair.base.asset_id] = pair.base
            out[pair.quote.asset_id] = pair.quote
        return out

    # ----------------------------------------------------------------- events

    def _emit(self, event: Event) -> None:
        self._events.append(event)

    def flush(self) -> None:
        """End an operation: fire triggers, then hand events and changed books to listeners."""
        while self._traded:
            for key in sorted(self._traded):
                self._traded.discard(key)
                self._check_triggers(key)
        events, dirty = self._events, self._dirty
        self._events, self._dirty = [], set()
        if not events and not dirty:
            return
        # The listeners (the WebSocket sessions) first: the books' level times and spreads
        # are for REST, which cannot read them before this returns.
        for listener in list(self.listeners):
            listener(events, dirty)
        for key in dirty:
            self._note_book(key)

    def _note_book(self, key: str) -> None:
        now = self.now()
        book = self.books[key]
        bid, ask = book.bids.best(), book.asks.best()
        spreads = self.spreads[key]
        if bid is not None and ask is not None and (not spreads or spreads[-1][1:] != (bid, ask)):
            spreads.append((now, bid, ask))
            del spreads[:-200]
        asks, bids = book.top(100)
        seen = {("a", p): q for p, q in asks} | {("b", p): q for p, q in bids}
        old, times = self._level_qty[key], self.level_times[key]
        for level, qty in seen.items():
            if old.get(level) != qty:
                times[level] = now
        for level in set(times) - set(seen):
            del times[level]
        self._level_qty[key] = seen

    # ----------------------------------------------------------------- status

    def set_status(self, status: str) -> None:
        """Switch the system status (online, maintenance, cancel_only, post_only)."""
        if status not in SYSTEM_STATUSES:
            raise ValueError(f"unknown system status {status!r}")
        if status != self.status:
            self.status = status
            self.status_time = self.now()
            self._emit(StatusEvent(status))
        self.flush()

    def _check_trading_allowed(self, req: OrderRequest) -> None:
        if self.status == "maintenance":
            raise KrakenError("EService:Unavailable")
        if self.status == "cancel_only":
            raise KrakenError("EService:Market in cancel_only mode")
        if self.status == "post_only" and not (req.ordertype in LIMIT_TYPES and req.post_only):
            raise KrakenError("EService:Market in post_only mode")

    # ----------------------------------------------------------------- validation

    def _trading_counter(self, account: Account, pair: SimPair) -> TradingCounter:
        return account.trading_counter(pair.key, lambda: TradingCounter.for_tier(account.tier))

    def _charge(self, account: Account, pair: SimPair, cost: float) -> None:
        if not self.rate_limits or cost <= 0:
            return
        if not self._trading_counter(account, pair).try_add(cost, self.now()):
            raise KrakenError("EOrder:Rate limit exceeded")

    def _check_price(self, pair: SimPair, price: Decimal, arg: str) -> None:
        if price <= 0:
            raise KrakenError(f"EGeneral:Invalid arguments:{arg}")
        if decimals_of(price) > pair.price_decimals:
            raise KrakenError(
                f"EOrder:Invalid price:{pair.altname} price can only be specified up to "
                f"{pair.price_decimals} decimals."
            )
        if price % pair.tick_size != 0:
            raise KrakenError("EOrder:Tick size check failed")

    def reference_price(self, pair: SimPair, side: str) -> Decimal | None:
        """The price a market order would start at (best opposite), else the last trade."""
        book = self.books[pair.key]
        best = book.asks.best() if side == "buy" else book.bids.best()
        return best if best is not None else self.last_price[pair.key]

    def validate(self, account: Account, req: OrderRequest) -> None:
        """Raise the KrakenError Kraken would answer for an invalid order."""
        pair = req.pair
        if req.side not in ("buy", "sell"):
            raise KrakenError("EGeneral:Invalid arguments:type")
        if req.ordertype not in ORDER_TYPES:
            raise KrakenError("EGeneral:Invalid arguments:ordertype")
        if req.volume <= 0 or decimals_of(req.volume) > pair.lot_decimals:
            raise KrakenError("EGeneral:Invalid arguments:volume")
        if req.ordertype == "trailing-stop":
            if req.price is None or req.price <= 0 or (req.offset_pct and req.price >= 100):
                raise KrakenError("EGeneral:Invalid arguments:price")
            if not req.offset_pct:
                self._check_price(pair, req.price, "price")
        elif req.ordertype != "market":
            if req.price is None:
                raise KrakenError("EGeneral:Invalid arguments:price")
            self._check_price(pair, req.price, "price")
        if req.ordertype == "iceberg":
            # Kraken: the visible part is at least 1/15 of the order and at least its minimum.
            shown = req.displayvol
            if shown is None or shown * 15 < req.volume or shown < pair.ordermin:
                raise KrakenError("EGeneral:Invalid arguments:displayvol")
            if decimals_of(shown) > pair.lot_decimals or shown > req.volume:
                raise KrakenError("EGeneral:Invalid arguments:displayvol")
        elif req.displayvol is not None:
            raise KrakenError("EGeneral:Invalid arguments:displayvol")
        if req.ordertype.endswith("-limit"):
            if req.price2 is None:
                raise KrakenError("EGeneral:Invalid arguments:price2")
            self._check_price(pair, req.price2, "price2")
        if req.post_only and req.ordertype not in LIMIT_TYPES:
            raise KrakenError("EGeneral:Invalid arguments:oflags")
        if req.timeinforce not in TIMES_IN_FORCE:
            raise KrakenError("EGeneral:Invalid arguments:timeinforce")
        if req.timeinforce == "GTD" and (req.expiretm is None or req.expiretm <= self.now()):
            raise KrakenError("EGeneral:Invalid arguments:expiretm")
        if req.timeinforce in ("IOC", "FOK") and req.post_only:
            raise KrakenError("EGeneral:Invalid arguments:timeinforce")
        if req.userref is not None and req.cl_ord_id is not None:
            raise KrakenError("EGeneral:Invalid arguments:cl_ord_id and userref both given")
        if req.cl_ord_id is not None and any(
            o.cl_ord_id == req.cl_ord_id for o in account.open_orders()
        ):
            raise KrakenError("EOrder:Duplicate cl_ord_id")
        if req.volume < pair.ordermin:
            raise KrakenError("EOrder:Order minimum not met")
        ref = req.price2 if req.ordertype.endswith("-limit") else req.price
        if ref is None or req.ordertype == "trailing-stop":
            ref = self.reference_price(pair, req.side)
        if ref is not None and req.volume * ref < pair.costmin:
            raise KrakenError("EOrder:Cost minimum not met")

    def _check_funds(self, account: Account, order: Order) -> None:
        pair = order.pair
        if order.ordertype == "market":
            if order.is_buy:
                need = self._market_buy_cost(order) * (1 + order.fee_reserve)
                if need > account.available(pair.quote.asset_id):
                    raise KrakenError("EOrder:Insufficient funds")
            elif order.volume > account.available(pair.base.asset_id):
                raise KrakenError("EOrder:Insufficient funds")
            return
        asset, amount = order.hold()
        if amount > account.available(asset):
            raise KrakenError("EOrder:Insufficient funds")

    def _market_buy_cost(self, order: Order) -> Decimal:
        remaining, cost = order.volume, ZERO
        for price, qty in self.books[order.pair.key].asks.levels():
            take = min(qty, remaining)
            cost += take * price
            remaining -= take
            if remaining <= 0:
                break
        return cost

    # ----------------------------------------------------------------- orders

    def add_order(
        self,
        account: Account,
        req: OrderRequest,
        *,
        validate: bool = False,
        received: float | None = None,
    ) -> Order:
        """
        Place an order (or only validate it). Returns the order; raises KrakenError. Its open
        time is ``received``, when the request arrived (default: now, after the checks).
        """
        self._check_trading_allowed(req)
        self.validate(account, req)
        pair = req.pair
        if sum(1 for o in account.open_orders() if o.pair is pair) >= OPEN_ORDER_LIMITS.get(
            account.tier, 60
        ):
            raise KrakenError("EOrder:Orders limit exceeded")
        _, taker = pair.fee_rates(account.fee_volume(self.now()))
        order = Order(
            txid="",
            account=account,
            pair=pair,
            side=req.side,
            ordertype=req.ordertype,
            volume=req.volume,
            price=req.price,
            price2=req.price2,
            post_only=req.post_only,
            fee_in_base=req.fee_in_base,
            timeinforce=req.timeinforce,
            expiretm=req.expiretm,
            userref=req.userref,
            cl_ord_id=req.cl_ord_id,
            opentm=self.now() if received is None else received,
            fee_reserve=taker,
            trigger=req.trigger,
            offset_pct=req.offset_pct,
            displayvol=req.displayvol,
        )
        if order.ordertype == "trailing-stop":
            order.peak = self.last_price[pair.key] or self.reference_price(pair, order.side)
        self._check_funds(account, order)
        if validate:
            return order
        self._charge(account, pair, 1.0)
        order.txid = self.ids.order_id()
        self.orders[order.txid] = order
        account.orders[order.txid] = order
        self._emit(ExecEvent(account, order, "pending_new", order.opentm))
        order.status = "open"
        self._emit(ExecEvent(account, order, "new", order.opentm))
        order.amends.append(self._amend_entry(order, "original", order.txid))
        if order.is_stop:
            self._stops[pair.key].append(order)
        else:
            self._execute(order)
        self.flush()
        return order

    def _execute(self, order: Order) -> None:
        """Take liquidity, then rest, cancel the rest (IOC, market) or close."""
        limit = order.limit_price
        book = self.books[order.pair.key]
        opposite = book.asks if order.is_buy else book.bids
        best = opposite.best()
        crosses = best is not None and (
            limit is None or (best <= limit if order.is_buy else best >= limit)
        )
        if order.post_only and crosses:
            self._close(order, "canceled", "Post only order")
            return
        if order.timeinforce == "FOK" and self._fillable(order, opposite, limit) < order.remaining:
            self._close(order, "canceled", "Fill or kill")
            return
        stp = self._match(order, opposite, limit) if crosses else False
        if order.remaining <= 0:
            self._close(order, "closed")
        elif stp:
            self._close(order, "canceled", "Self trade prevention")
        elif limit is None:
            self._close(order, "canceled", "Insufficient liquidity" if not order.vol_exec else None)
        elif order.timeinforce in ("IOC", "FOK"):
            self._close(order, "canceled", "Immediate or cancel")
        else:
            order.resting_price = limit
            book.side(order.is_buy).add_order(order)
            self._dirty.add(order.pair.key)

    @staticmethod
    def _fillable(order: Order, opposite: BookSide, limit: Decimal | None) -> Decimal:
        """How much of ``order`` the opposite side could fill now (others' orders, whole)."""
        total = ZERO
        for price in opposite.prices():
            if total >= order.remaining:
                break
            if limit is not None and (price > limit if order.is_buy else price < limit):
                break
            total += opposite.market.get(price, ZERO)
            total += sum(
                (
                    o.remaining
                    for o in opposite.orders.get(price, ())
                    if o.account is not order.account
                ),  # type: ignore[attr-defined]
                ZERO,
            )
        return total

    def _match(self, order: Order, opposite: BookSide, limit: Decimal | None) -> bool:
        """Fill ``order`` against the opposite side; True when self-trade prevention stopped it."""
        for price in opposite.prices():
            if order.remaining <= 0:
                break
            if limit is not None and (price > limit if order.is_buy else price < limit):
                break
            market_qty = opposite.market.get(price, ZERO)
            if market_qty > 0:
                qty = min(market_qty, order.remaining)
                if order.ordertype == "market" and order.is_buy:
                    qty = self._affordable(order, qty, price)
                    if qty <= 0:
                        return False
                opposite.set_market(price, market_qty - qty)
                self._trade(order, None, qty, price)
            for resting in list(opposite.orders.get(price, ())):
                if order.remaining <= 0:
                    break
                if resting.account is order.account:
                    return True  # Kraken's default STP: cancel the newest
                qty = min(resting.remaining, order.remaining)  # type: ignore[attr-defined]
                self._trade(order, resting, qty, price)  # type: ignore[arg-type]
        return False

    def _affordable(self, order: Order, qty: Decimal, price: Decimal) -> Decimal:
        available = order.account.available(order.pair.quote.asset_id)
        per_unit = price * (1 + (ZERO if order.fee_in_base else order.fee_reserve))
        if qty * per_unit <= available:
            return qty
        return quantize(available / per_unit, order.pair.lot_decimals, "ROUND_DOWN")

    def _trade(self, taker: Order, maker: Order | None, qty: Decimal, price: Decimal) -> None:
        """One match: fills both sides, prints on the tape."""
        key = taker.pair.key
        now = self.now()
        trade = PublicTrade(
            trade_id=next(self._trade_ids[key]),
            price=price,
            qty=qty,
            time=now,
            side="b" if taker.is_buy else "s",
            ord_type="m" if taker.limit_price is None else "l",
        )
        self._fill(taker, qty, price, maker=False, trade_id=trade.trade_id)
        if maker is not None:
            self._fill(maker, qty, price, maker=True, trade_id=trade.trade_id)
            if maker.remaining <= 0:
                self.books[key].side(maker.is_buy).remove_order(maker)
                self._close(maker, "closed")
        self._print(taker.pair, trade)

    def _print(self, pair: SimPair, trade: PublicTrade) -> None:
        tape = self.tape[pair.key]
        if tape and trade.time < tape[-1].time:
            trade.time = tape[-1].time  # the tape stays in time order for its statistics
        tape.append(trade)
        self.stats[pair.key].add(trade)
        self.last_price[pair.key] = trade.price
        self._dirty.add(pair.key)
        self._traded.add(pair.key)
        self._emit(TradeEvent(pair, trade))

    def _fill(
        self, order: Order, qty: Decimal, price: Decimal, *, maker: bool, trade_id: int
    ) -> None:
        account, pair = order.account, order.pair
        now = self.now()
        maker_rate, taker_rate = pair.fee_rates(account.fee_volume(now))
        rate = maker_rate if maker else taker_rate
        cost = qty * price
        fee_asset = pair.base if order.fee_in_base else pair.quote
        charged = qty if order.fee_in_base else cost
        fee = quantize(charged * rate, fee_asset.decimals, ROUND_HALF_UP)
        txid = self.ids.trade_id()
        account.add_volume(now, cost * self.value_of(pair.quote.asset_id, FEE_VOLUME_ASSET))
        order.vol_exec += qty
        order.cost += cost
        order.fee += fee
        order.trade_ids.append(txid)
        base_amount, quote_amount = (qty, -cost) if order.is_buy else (-qty, cost)
        base_fee = fee if order.fee_in_base else ZERO
        quote_fee = ZERO if order.fee_in_base else fee
        entries = [
            account.change(
                pair.base.asset_id,
                base_amount,
                fee=base_fee,
                refid=txid,
                time=now,
                kind="trade",
                make_id=self.ids.ledger_id,
            ),
            account.change(
                pair.quote.asset_id,
                quote_amount,
                fee=quote_fee,
                refid=txid,
                time=now,
                kind="trade",
                make_id=self.ids.ledger_id,
            ),
        ]
        ptrade = PrivateTrade(
            txid=txid,
            ordertxid=order.txid,
            postxid=self.ids.trade_id(),
            pair=pair,
            time=now,
            side=order.side,
            ordertype=order.ordertype,
            price=price,
            cost=cost,
            fee=fee,
            fee_asset=fee_asset.asset_id,
            vol=qty,
            maker=maker,
            trade_id=trade_id,
            ledgers=[e.ledger_id for e in entries],
        )
        account.trades[txid] = ptrade
        self._emit(ExecEvent(account, order, "trade", now, trade=ptrade))
        for entry in entries:
            self._emit(BalanceEvent(account, entry))

    def _close(self, order: Order, status: str, reason: str | None = None) -> None:
        order.status = status
        order.closetm = self.now()
        order.reason = reason
        if order.is_stop and order in self._stops[order.pair.key]:
            self._stops[order.pair.key].remove(order)
        exec_type = {"closed": "filled", "canceled": "canceled", "expired": "expired"}[status]
        self._emit(ExecEvent(order.account, order, exec_type, order.closetm, reason=reason))

    def _find_open(self, account: Account, ident: str | int) -> list[Order]:
        out = []
        for order in account.open_orders():
            if isinstance(ident, int):
                if order.userref == ident:
                    out.append(order)
            elif ident in (order.txid, order.cl_ord_id):
                out.append(order)
        return out

    def _take_off(self, order: Order) -> None:
        if order.resting_price is not None:
            self.books[order.pair.key].side(order.is_buy).remove_order(order)
            self._dirty.add(order.pair.key)

    def cancel_orders(self, account: Account, idents: list[str | int]) -> int:
        """A batch cancel: each of ``idents`` that names an order is cancelled; returns the count
        (unknown ones are skipped, as Kraken's CancelOrderBatch does)."""
        count = 0
        for ident in idents:
            try:
                count += self.cancel_order(account, ident)
            except KrakenError:
                continue
        return count

    def cancel_order(self, account: Account, ident: str | int) -> int:
        """Cancel by txid, cl_ord_id or userref; returns the count (``EOrder:Unknown order``)."""
        if self.status == "maintenance":
            raise KrakenError("EService:Unavailable")
        orders = self._find_open(account, ident)
        if not orders:
            raise KrakenError("EOrder:Unknown order")
        now = self.now()
        for order in orders:
            self._charge(account, order.pair, cancel_cost(now - order.opentm))
        for order in orders:
            self._take_off(order)
            self._close(order, "canceled", "User requested")
        self.flush()
        return len(orders)

    def cancel_all(self, account: Account, reason: str = "User requested") -> int:
        """Cancel every open order of the account."""
        if self.status == "maintenance":
            raise KrakenError("EService:Unavailable")
        orders = account.open_orders()
        for order in orders:
            self._take_off(order)
            self._close(order, "canceled", reason)
        self.flush()
        return len(orders)

    def cancel_all_after(self, account: Account, timeout: int) -> tuple[float, float]:
        """Arm (timeout > 0) or disarm (0) the dead-man switch; returns (now, trigger time)."""
        if timeout < 0 or timeout > 86400:
            raise KrakenError("EGeneral:Invalid arguments:timeout")
        now = self.now()
        account.dead_man_deadline = now + timeout if timeout else None
        return now, (now + timeout if timeout else now)

    def amend_order(
        self,
        account: Account,
        ident: str,
        *,
        order_qty: Decimal | None = None,
        limit_price: Decimal | None = None,
        trigger_price: Decimal | None = None,
        post_only: bool = False,
    ) -> tuple[Order, str]:
        """Amend an open order in place; returns (order, amend_id)."""
        if self.status in ("maintenance", "cancel_only"):
            raise KrakenError(
                "EService:Unavailable"
                if self.status == "maintenance"
                else "EService:Market in cancel_only mode"
            )
        found = self._find_open(account, ident)
        if not found:
            raise KrakenError("EOrder:Unknown order")
        order = found[0]
        pair = order.pair
        if order_qty is None and limit_price is None and trigger_price is None:
            raise KrakenError("EGeneral:Invalid arguments:no amendment given")
        if order_qty is not None:
            if order_qty <= 0 or decimals_of(order_qty) > pair.lot_decimals:
                raise KrakenError("EGeneral:Invalid arguments:order_qty")
            if order_qty <= order.vol_exec:
                raise KrakenError("EOrder:Invalid order qty")
            if order_qty < pair.ordermin:
                raise KrakenError("EOrder:Order minimum not met")
        if limit_price is not None:
            if order.limit_price is None:
                raise KrakenError("EGeneral:Invalid arguments:limit_price")
            self._check_price(pair, limit_price, "limit_price")
        if trigger_price is not None:
            if not order.is_stop or order.triggered:
                raise KrakenError("EGeneral:Invalid arguments:trigger_price")
            self._check_price(pair, trigger_price, "trigger_price")
        new_limit = limit_price if limit_price is not None else order.limit_price
        if (post_only or order.post_only) and new_limit is not None and not order.is_stop:
            best = self.books[pair.key].side(not order.is_buy).best()
            if best is not None and (best <= new_limit if order.is_buy else best >= new_limit):
                raise KrakenError("EOrder:Post only order")
        self._charge(account, pair, amend_cost(self.now() - order.opentm))
        saved = (order.volume, order.price, order.price2)
        was_resting = order.resting_price is not None
        lose_priority = limit_price is not None or (
            order_qty is not None and order_qty > order.volume
        )
        if was_resting and lose_priority:
            self._take_off(order)
            order.resting_price = None
        if order_qty is not None:
            order.volume = order_qty
        if limit_price is not None:
            if order.ordertype in LIMIT_TYPES:
                order.price = limit_price
            else:
                order.price2 = limit_price
        if trigger_price is not None:
            order.price = trigger_price
        if account.available(order.hold()[0]) < 0:
            order.volume, order.price, order.price2 = saved
            if was_resting and lose_priority:
                order.resting_price = order.limit_price
                self.books[pair.key].side(order.is_buy).add_order(order)
            raise KrakenError("EOrder:Insufficient funds")
        order.amended = True
        if post_only:
            order.post_only = True
        self._dirty.add(pair.key)
        amend_id = self.ids.trade_id()
        order.amends.append(self._amend_entry(order, "user", amend_id))
        self._emit(ExecEvent(account, order, "amended", self.now(), reason="User requested"))
        if was_resting and lose_priority:
            self._execute(order)
        self.flush()
        return order, amend_id

    def _amend_entry(self, order: Order, kind: str, amend_id: str) -> dict:
        """One OrderAmends row: the order's terms after an amend (or as placed)."""
        pd, ld = order.pair.price_decimals, order.pair.lot_decimals
        entry = {
            "amend_id": amend_id,
            "amend_type": kind,
            "order_qty": fixed(order.volume, ld),
            "remaining_qty": fixed(order.remaining, ld),
            "post_only": order.post_only,
            "timestamp": int(self.now() * 1000),
        }
        if order.displayvol is not None:
            entry["display_qty"] = fixed(order.displayvol, ld)
        if order.limit_price is not None:
            entry["limit_price"] = fixed(order.limit_price, pd)
        if order.is_stop and order.price is not None:
            entry["trigger_price"] = fixed(order.price, pd)
        if kind == "user":
            entry["reason"] = "User requested"
        return entry

    def edit_order(
        self,
        account: Account,
        ident: str | int,
        *,
        volume: Decimal | None,
        price: Decimal | None,
        price2: Decimal | None,
        userref: int | None = None,
        validate: bool = False,
    ) -> tuple[Order, Order]:
        """
        EditOrder: cancel an open order and place its replacement (a new txid) with the changed
        terms; the replacement carries the volume still to fill. Returns (original, new).
        """
        found = self._find_open(account, ident)
        if not found:
            raise KrakenError("EOrder:Unknown order")
        old = found[0]
        total = old.volume if volume is None else volume
        if total <= old.vol_exec:
            raise KrakenError("EOrder:Invalid order qty")
        req = OrderRequest(
            pair=old.pair,
            side=old.side,
            ordertype=old.ordertype,
            volume=total - old.vol_exec,
            price=old.price if price is None else price,
            price2=old.price2 if price2 is None else price2,
            post_only=old.post_only,
            fee_in_base=old.fee_in_base,
            timeinforce=old.timeinforce,
            expiretm=old.expiretm,
            userref=old.userref if userref is None else userref,
            trigger=old.trigger,
            offset_pct=old.offset_pct,
            displayvol=old.displayvol,
        )
        status, old.status = old.status, "canceled"  # its hold is free for the replacement
        try:
            replacement = self.add_order(account, req, validate=True)
        finally:
            old.status = status
        if validate:
            return old, replacement
        self._take_off(old)
        self._close(old, "canceled", "Order replaced")
        return old, self.add_order(account, req)

    # ----------------------------------------------------------------- triggers and time

    def _check_triggers(self, key: str) -> None:
        last = self.last_price[key]
        if last is None:
            return
        for order in list(self._stops[key]):
            if order.status != "open" or order.triggered:
                continue
            stop = order.ordertype.startswith(("stop-loss", "trailing-stop"))
            price = order.price or ZERO
            if order.ordertype == "trailing-stop":
                assert order.peak is not None
                order.peak = min(order.peak, last) if order.is_buy else max(order.peak, last)
                price = order.trail_stop() or ZERO
            if stop:
                fire = last >= price if order.is_buy else last <= price
            else:
                fire = last <= price if order.is_buy else last >= price
            if fire:
                order.triggered = True
                self._stops[key].remove(order)
                self._emit(ExecEvent(order.account, order, "status", self.now()))
                self._execute(order)

    def advance(self, sources: dict[str, object] | None = None) -> None:
        """Apply the passage of time: market sources, GTD expiry, dead-man switches."""
        now = self.now()
        for key, source in (sources or {}).items():
            source.advance(self, self.pairs[key], now)  # type: ignore[attr-defined]
        for order in list(self.orders.values()):
            if order.status == "open" and order.expiretm is not None and order.expiretm <= now:
                self._take_off(order)
                self._close(order, "expired")
        for account in self.accounts.values():
            if account.dead_man_deadline is not None and account.dead_man_deadline <= now:
                account.dead_man_deadline = None
                for order in account.open_orders():
                    self._take_off(order)
                    self._close(order, "canceled", "Dead man switch")
        self.flush()

    # ----------------------------------------------------------------- market side

    def replace_market(self, pair: SimPair, bids: list[Level], asks: list[Level]) -> None:
        """Replace the exchange's own liquidity of a pair, then fill clients it crosses."""
        book = self.books[pair.key]
        book.bids.clear_market()
        book.asks.clear_market()
        for price, qty in bids:
            book.bids.set_market(price, qty)
        for price, qty in asks:
            book.asks.set_market(price, qty)
        self._dirty.add(pair.key)
        self._cross_clients(pair)

    def _cross_clients(self, pair: SimPair) -> None:
        """Clients' resting orders that the market's liquidity now crosses fill as makers."""
        book = self.books[pair.key]
        for is_bid in (True, False):
            own, other = book.side(is_bid), book.side(not is_bid)
            for price in own.prices():
                best = other.best_market()
                if best is None or (best > price if is_bid else best < price):
                    break
                for order in list(own.orders.get(price, ())):
                    while order.remaining > 0:  # type: ignore[attr-defined]
                        best = other.best_market()
                        if best is None or (best > price if is_bid else best < price):
                            break
                        qty = min(other.market[best], order.remaining)  # type: ignore[attr-defined]
                        other.set_market(best, other.market[best] - qty)
                        self._maker_fill_from_market(order, qty, price)  # type: ignore[arg-type]

    def _maker_fill_from_market(self, order: Order, qty: Decimal, price: Decimal) -> None:
        key = order.pair.key
        trade = PublicTrade(
            trade_id=next(self._trade_ids[key]),
            price=price,
            qty=qty,
            time=self.now(),
            side="s" if order.is_buy else "b",
            ord_type="l",
        )
        self._fill(order, qty, price, maker=True, trade_id=trade.trade_id)
        if order.remaining <= 0:
            self.books[key].side(order.is_buy).remove_order(order)
            self._close(order, "closed")
        self._print(order.pair, trade)

    def market_trade(
        self,
        pair: SimPair,
        price: Decimal,
        qty: Decimal,
        side: str,
        *,
        ord_type: str = "m",
        at: float | None = None,
    ) -> None:
        """A trade by the market's own participants; it first fills clients it trades through."""
        book = self.books[pair.key]
        own = book.bids if side == "s" else book.asks
        remaining = qty
        for level in own.prices():
            if remaining <= 0 or (level < price if side == "s" else level > price):
                break
            for order in list(own.orders.get(level, ())):
                if remaining <= 0:
                    break
                take = min(order.remaining, remaining)  # type: ignore[attr-defined]
                remaining -= take
                self._maker_fill_from_market(order, take, level)  # type: ignore[arg-type]
        if remaining > 0:
            trade = PublicTrade(
                trade_id=next(self._trade_ids[pair.key]),
                price=price,
                qty=remaining,
                time=self.now() if at is None else at,
                side=side,
                ord_type=ord_type,
            )
            self._print(pair, trade)

    # ----------------------------------------------------------------- deposits

    def deposit(self, account: Account, asset: str, amount: Decimal) -> None:
        """Credit (or debit) an account, e.g. starting balances."""
        entry = account.change(
            asset,
            amount,
            fee=ZERO,
            refid=self.ids.ledger_id(),
            time=self.now(),
            kind="deposit",
            make_id=self.ids.ledger_id,
        )
        self._emit(BalanceEvent(account, entry))
        self.flush()
