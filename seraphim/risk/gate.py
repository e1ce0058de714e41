"""
The risk gate: Seraphim's pre-trade rules in front of nautilus's own ``RiskEngine``.

Strategies (and execution algorithms) send ``SubmitOrder`` / ``SubmitOrderList`` /
``ModifyOrder`` commands to the message bus endpoint ``RiskEngine.execute``; emulated orders go
to ``OrderEmulator.execute``. ``install`` takes over both endpoints: every command is checked
against the rules (global and the submitting strategy's), approved ones are forwarded to the
original handler unchanged, and the rest are denied exactly as nautilus's RiskEngine denies an
order: an ``OrderDenied`` event (``OrderModifyRejected`` for a modify) sent to
``ExecEngine.process``, with a reason that starts with the rule's name. A strategy cannot go
round it through the normal API because the endpoint it sends to *is* the gate, in a
``BacktestEngine`` and in a ``TradingNode`` alike.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections import defaultdict

from nautilus_trader.common.component import MessageBus
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.emulator import OrderEmulator
from nautilus_trader.execution.messages import ModifyOrder
from nautilus_trader.execution.messages import SubmitOrder
from nautilus_trader.execution.messages import SubmitOrderList
from nautilus_trader.model.data import Bar
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.events import OrderDenied
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.events import OrderModifyRejected
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import StrategyId
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Currency
from nautilus_trader.model.orders import Order
from nautilus_trader.risk.engine import RiskEngine

from seraphim.portfolio import Holdings
from seraphim.portfolio import conversion_rate
from seraphim.portfolio import holdings
from seraphim.portfolio import last_price
from seraphim.portfolio import value
from seraphim.risk.cash import CashCheck
from seraphim.risk.config import RiskConfig
from seraphim.risk.config import RiskLimits
from seraphim.risk.guard import NANOS_PER_DAY
from seraphim.risk.guard import GuardEvent
from seraphim.risk.guard import PortfolioGuard
from seraphim.risk.market import MarketStats
from seraphim.risk.messages import HeadroomQuery
from seraphim.risk.messages import RiskEvent
from seraphim.risk.rules import Book
from seraphim.risk.rules import Denial
from seraphim.risk.rules import Exposure
from seraphim.risk.rules import Intent
from seraphim.risk.rules import RuleSet
from seraphim.risk.rules import within_proof
from seraphim.risk.usage import guard_usage
from seraphim.risk.usage import most_used
from seraphim.risk.usage import scope_usage

_KEEP_SAMPLES = 5  # denial reasons kept per rule for reports


class _Facts:
    """``MarketFacts`` for the rules: bar statistics plus top-of-book from cached quotes."""

    def __init__(self, stats: MarketStats, cache) -> None:
        self.stats = stats
        self.cache = cache
        self._ids: dict[str, InstrumentId] = {}

    def volatility(self, instrument, window):
        return self.stats.volatility(instrument, window)

    def mean_volume(self, instrument, window):
        return self.stats.mean_volume(instrument, window)

    def instrument_id(self, key: str) -> InstrumentId:
        instrument_id = self._ids.get(key)
        if instrument_id is None:
            instrument_id = self._ids[key] = InstrumentId.from_str(key)
        return instrument_id

    def top_size(self, instrument, side):
        quote = self.cache.quote_tick(self.instrument_id(instrument))
        if quote is None:
            return None
        return (quote.ask_size if side > 0 else quote.bid_size).as_double()


class StrategyLedger:
    """Mark-to-market PnL per strategy from its fills, for per-strategy daily loss limits."""

    def __init__(self) -> None:
        self.cash: dict[str, float] = defaultdict(float)
        self.positions: dict[str, dict[str, tuple[float, float]]] = defaultdict(dict)

    def on_fill(self, strategy: str, instrument: str, signed_qty: float, value_per_unit: float):
        self.cash[strategy] -= signed_qty * value_per_unit
        held, _ = self.positions[strategy].get(instrument, (0.0, 0.0))
        self.positions[strategy][instrument] = (held + signed_qty, value_per_unit)

    def on_fee(self, strategy: str, fee: float) -> None:
        self.cash[strategy] -= fee

    def pnl(self, strategy: str, unit_value) -> float:
        total = self.cash.get(strategy, 0.0)
        for instrument, (held, last) in self.positions.get(strategy, {}).items():
            if held:
                total += held * (unit_value(instrument) or last)
        return total


class RiskGate:
    """The rule chain on the message bus, with counters and the portfolio guard."""

    def __init__(self, config: RiskConfig, cache, portfolio, clock, msgbus: MessageBus, log):
        config.validate()
        self.config = config
        self.cache = cache
        self.portfolio = portfolio
        self.clock = clock
        self.msgbus = msgbus
        self.log = log
        self.currency = Currency.from_str(config.currency)
        self.global_rules = RuleSet(config.limits)
        strategies = dict(config.strategies)
        default = strategies.pop("*", None)
        self.default_strategy_rules = RuleSet(default) if default is not None else None
        self.strategy_rules = {sid: RuleSet(limits) for sid, limits in strategies.items()}
        every = [config.limits, *config.strategies.values()]
        self.stats = MarketStats(
            max(lim.liquidity_window for lim in every if lim.max_volume_fraction)
            if any(lim.max_volume_fraction for lim in every)
            else 1,
            windows=tuple(lim.volatility_window for lim in every if lim.max_volatility),
        )
        self.facts = _Facts(self.stats, cache)
        self.cash = CashCheck(cache, self._mark, config.slippage_allowance)
        self.guard = PortfolioGuard(config.guard)
        self.ledger = StrategyLedger()
        self._needs_ledger = any(
            lim.max_daily_loss is not None for lim in config.strategies.values()
        )
        self._day: int | None = None
        self._day_start_equity = 0.0
        self._day_start_pnl: dict[str, float] = {}
        self._last_equity: float | None = None
        self._pending: dict = {}
        self._pending_modify: dict = {}  # client order id -> approved new quantity
        self._bar_info: dict = {}
        self._venues: dict = {}
        self._instrument_meta: dict = {}
        self._keys: dict[InstrumentId, str] = {}  # str(instrument_id), kept
        self._guard_on = not config.guard.is_empty()
        self._needs_equity = self._guard_on or config.limits.max_daily_loss is not None
        every_limits = [config.limits, *config.strategies.values()]
        # Rules that watch every bar (realised volatility, traded volume, the day's loss) and the
        # guard; without them prices come from nautilus's cache when an order needs them.
        self.needs_bars = self._guard_on or any(
            limits.max_volatility is not None
            or limits.max_volume_fraction is not None
            or limits.max_daily_loss is not None
            for limits in every_limits
        )
        self._version = 0  # bumped by every bar and fill: equity is cached within a version
        self._account_version = 0  # bumped by fills and account events: holdings re-read
        self._holdings_version = -1
        self._holdings: list[Holdings | None] = []
        self._equity_key: tuple[int, int] | None = None
        # Bumped whenever positions or unfinished orders may have changed: a proof that a
        # position is within its shrinking limits (``_within``) holds only for its version.
        self._book_version = 0
        self._within: dict = {}
        self._equity = 0.0
        self._venue_values: tuple[tuple[Venue, float, float], ...] = ()
        self.bars_seen = 0  # bars whose closes are the marks (an equity recorder checks it)
        self._downstream = {}
        self.denied: Counter[str] = Counter()
        self.denial_samples: dict[str, list[str]] = defaultdict(list)
        self._denied_ids: set = set()
        self.events: list[RiskEvent] = []
        self.checked = 0
        self.on_guard_event = None  # set by the controller: applies trading state, flattens

    # -- installation ---------------------------------------------------------------------

    def install(self, risk_engine: RiskEngine | None = None, emulator=None) -> None:
        """Take over ``RiskEngine.execute`` (and ``OrderEmulator.execute``) on the bus."""
        if risk_engine is None:  # it listens to every order event from its construction on
            risk_engine = next(
                (
                    sub.handler.__self__
                    for sub in self.msgbus.subscriptions("events.order.*")
                    if isinstance(getattr(sub.handler, "__self__", None), RiskEngine)
                ),
                None,
            )
        if risk_engine is None:
            raise RuntimeError("no RiskEngine on this message bus to put the risk gate in front of")
        if emulator is None and "OrderEmulator.execute" in self.msgbus.endpoints():
            # Nautilus gives a Controller no handle on the OrderEmulator (the Trader does not
            # hold it; it subscribes to nothing before its first emulated order): the bus's
            # referrers are the only way to it.
            referrers = gc.get_referrers(self.msgbus)
            emulator = next((c for c in referrers if isinstance(c, OrderEmulator)), None)
        self.risk_engine = risk_engine
        self.emulator = emulator
        self._take_over("RiskEngine.execute", risk_engine.execute, self.execute)
        if emulator is not None:
            self._take_over("OrderEmulator.execute", emulator.execute, self.execute_emulated)

    def _take_over(self, endpoint: str, handler, replacement) -> None:
        self.msgbus.deregister(endpoint, handler)
        self.msgbus.register(endpoint, replacement)
        self._downstream[endpoint] = handler

    def uninstall(self) -> None:
        replacements = {
            "RiskEngine.execute": self.execute,
            "OrderEmulator.execute": self.execute_emulated,
        }
        for endpoint, handler in self._downstream.items():
            self.msgbus.deregister(endpoint, replacements[endpoint])
            self.msgbus.register(endpoint, handler)
        self._downstream.clear()

    # -- commands -------------------------------------------------------------------------

    def execute(self, command) -> None:
        self._route(command, self._downstream["RiskEngine.execute"])

    def execute_emulated(self, command) -> None:
        self._route(command, self._downstream["OrderEmulator.execute"])

    def _route(self, command, forward) -> None:
        if not self.config.enabled:
            forward(command)
            return
        try:
            if isinstance(command, SubmitOrder):
                denial = self._check_order(command.order)
                if denial is None:
                    self._approve(command.order)
                    forward(command)
                else:
                    self._deny(command.order, denial)
            elif isinstance(command, SubmitOrderList):
                self._route_list(command, forward)
            elif isinstance(command, ModifyOrder):
                denial = self._check_modify(command)
                if denial is None:
                    if command.quantity is not None:
                        # Counted at its new size until the venue confirms or rejects it.
                        self._pending_modify[command.client_order_id] = command.quantity.as_double()
                        self._book_version += 1
                    forward(command)
                else:
                    self._reject_modify(command, denial)
            else:
                forward(command)
        except Exception as e:  # fail closed: an error in a rule must not let an order through
            self.log.error(f"risk gate error, order denied: {type(e).__name__}: {e}")
            denial = Denial("risk_error", f"risk_error: {type(e).__name__}: {e}")
            if isinstance(command, SubmitOrder):
                self._deny(command.order, denial)
            elif isinstance(command, SubmitOrderList):
                for order in command.order_list.orders:
                    self._deny(order, denial)
            elif isinstance(command, ModifyOrder):
                self._reject_modify(command, denial)

    def _route_list(self, command: SubmitOrderList, forward) -> None:
        approved = []
        for order in command.order_list.orders:
            denial = self._check_order(order)
            if denial is not None:
                for pending in approved:
                    self._pending.pop(pending.client_order_id, None)
                self._book_version += 1
                for other in command.order_list.orders:
                    self._deny(other, denial if other is order else _list_denial(denial))
                return
            self._approve(order)
            approved.append(order)
        forward(command)

    def _approve(self, order: Order) -> None:
        self._pending[order.client_order_id] = order
        self._book_version += 1

    # -- the checks -----------------------------------------------------------------------

    def _check_order(self, order: Order) -> Denial | None:
        self.checked += 1
        side = 1 if order.side == OrderSide.BUY else -1
        return self._check(
            order.strategy_id,
            order.instrument_id,
            side,
            order.quantity.as_double(),
            order.price.as_double() if order.has_price else None,
            exclude=order.client_order_id,
            reduce_only=order.is_reduce_only,
        )

    def _check_modify(self, command: ModifyOrder) -> Denial | None:
        order = self.cache.order(command.client_order_id)
        if order is None or command.quantity is None or command.quantity <= order.quantity:
            return None
        self.checked += 1
        side = 1 if order.side == OrderSide.BUY else -1
        price = command.price or (order.price if order.has_price else None)
        increase = command.quantity.as_double() - order.quantity.as_double()
        return self._check(
            order.strategy_id,
            order.instrument_id,
            side,
            increase,
            price.as_double() if price is not None else None,
        )

    def rules_for(self, strategy_id: StrategyId) -> RuleSet | None:
        rules = self.strategy_rules.get(strategy_id.value)
        return rules if rules is not None else self.default_strategy_rules

    def _check(
        self,
        strategy_id: StrategyId,
        instrument_id: InstrumentId,
        side: int,
        quantity: float,
        price: float | None,
        exclude=None,
        reduce_only: bool = False,
    ) -> Denial | None:
        instrument = self.cache.instrument(instrument_id)
        if instrument is None:
            return None  # nautilus's RiskEngine denies unknown instruments itself
        unfinished = self._unfinished(exclude)
        if not reduce_only:
            denial = self.cash.check(instrument, side, quantity, price, unfinished)
            if denial is not None:
                return denial
        key, base, venue, _ = self._meta(instrument_id)
        intent = Intent(
            key, base, venue, side, quantity, self._unit_value(instrument, price), strategy_id.value
        )
        strategy_rules = self.rules_for(strategy_id)
        if not (self.guard.tripped or self.global_rules or strategy_rules):
            return None
        equity = self.equity()
        global_book, strategy_book = self._books(
            strategy_id if strategy_rules else None,
            unfinished,
            equity,
            bool(self.global_rules) or self.guard.tripped,
        )
        if self.guard.tripped:
            book = global_book
            pure_reduction = quantity <= max(0.0, -book.get(intent).extreme(side)) * (1 + 1e-9)
            if self.guard.state == "HALTED" and not (reduce_only and pure_reduction):
                return Denial("guard", f"guard: trading HALTED ({self.guard.tripped_by})")
            if not pure_reduction:
                return Denial(
                    "guard",
                    f"guard: trading {self.guard.state} ({self.guard.tripped_by}): "
                    f"{intent.instrument} order would increase exposure",
                )
        if self.global_rules:
            denial = self.global_rules.check(intent, global_book, self.facts)
            if denial is not None:
                return denial
        if strategy_rules:
            denial = strategy_rules.check(intent, strategy_book, self.facts)
            if denial is not None:
                return denial
        return None

    def headroom(self, query: HeadroomQuery) -> float:
        """
        How many units ``query.strategy_id`` may still trade on ``query.side`` now: negative
        when its book (or the global one) is already beyond a limit in that direction, by that
        many units (e.g. after volatility rose above a ``scale`` threshold). Asked with
        ``shrinking_only``, exact when negative; 0 may stand for any headroom >= 0 (proven
        within every shrinking limit without evaluating them).
        """
        if not self.config.enabled:
            return float("inf")
        only = query.shrinking_only
        tripped = self.guard.tripped
        proof_key = None
        if only and query.price is None and not tripped:
            proof_key = (query.strategy_id, query.instrument_id, query.side)
            if self._proven_within(proof_key):
                return 0.0  # within every shrinking limit: the exact figure is not needed
        instrument = self.cache.instrument(query.instrument_id)
        if instrument is None:
            return float("inf")
        key, base, venue, _ = self._meta(query.instrument_id)
        intent = Intent(
            key,
            base,
            venue,
            query.side,
            0.0,
            self._unit_value(instrument, query.price),
            query.strategy_id.value,
        )
        allowed = float("inf")
        strategy_rules = self.rules_for(query.strategy_id)
        unfinished = None
        if not only:  # what the account can pay for never shrinks below what it holds
            unfinished = self._unfinished(None)
            allowed, _ = self.cash.headroom(instrument, query.side, query.price, unfinished)
        # A scope's book is needed while the guard is tripped (only reductions) and for its
        # rules; asked for the shrinking ones only, only those (nothing else can have tightened
        # by itself: a limit that depends on equity, prices or volatility).
        need_global = tripped or _asked(self.global_rules, only)
        need_strategy = bool(strategy_rules) and (tripped or _asked(strategy_rules, only))
        if not (need_global or need_strategy):
            return allowed
        equity = self.equity()
        global_book, strategy_book = self._books(
            query.strategy_id if need_strategy else None,
            self._unfinished(None) if unfinished is None else unfinished,
            equity,
            need_global,
            day_pnl=not only,  # the day's loss is no shrinking limit
        )
        books = []
        if global_book is not None:
            books.append((self.global_rules, global_book))
        if strategy_book is not None:
            books.append((strategy_rules, strategy_book))
        for rules, book in books:
            if self.guard.tripped:  # only reductions while the guard is tripped
                allowed = min(allowed, max(0.0, -book.get(intent).extreme(query.side)))
            if rules:
                allowed = min(
                    allowed,
                    rules.headroom(intent, book, self.facts, clamp=False, shrinking_only=only),
                )
        if proof_key is not None and allowed >= 0:
            self._prove_within(proof_key, intent, books)
        return allowed

    def _proven_within(self, proof_key: tuple) -> bool:
        proven = self._within.get(proof_key)
        return (
            proven is not None
            and proven[0] == self._book_version
            and proven[1].holds(self.equity(), self._unit_value_by_key)
        )

    def _prove_within(self, proof_key: tuple, intent: Intent, books: list) -> None:
        """
        Keep a proof that a position is within its shrinking limits: asked again (as a
        strategy clipping to its headroom does every bar) while the book is unchanged, the
        gate answers from it as long as prices and equity have not moved enough to matter.
        """
        proof = within_proof([(r, b) for r, b in books if r], intent, self.facts)
        if proof is None:
            self._within.pop(proof_key, None)
        else:
            self._within[proof_key] = (self._book_version, proof)

    # -- the book -------------------------------------------------------------------------

    def _meta(self, instrument_id: InstrumentId):
        """(key, base asset, venue, instrument), cached per instrument."""
        meta = self._instrument_meta.get(instrument_id)
        if meta is None:
            instrument = self.cache.instrument(instrument_id)
            key = str(instrument_id)
            # Equities and other single-asset instruments have no base currency: the
            # instrument itself is the asset.
            base_currency = getattr(instrument, "base_currency", None)
            base = base_currency.code if base_currency else key
            meta = self._instrument_meta[instrument_id] = (
                key,
                base,
                instrument_id.venue.value,
                instrument,
            )
        return meta

    def _books(
        self,
        strategy_id: StrategyId | None,
        unfinished: list[Order],
        equity: float,
        need_global: bool,
        day_pnl: bool = True,
    ) -> tuple[Book | None, Book | None]:
        """
        The global book and the strategy's own, from one pass over the cache (without
        ``day_pnl`` the strategy's book leaves its day's PnL at 0: no rule asked reads it).
        """
        everything: dict[str, Exposure] = {}
        own: dict[str, Exposure] = {}
        marks: dict[str, float] = {}

        def add(target: dict, instrument_id: InstrumentId) -> Exposure:
            key, base, venue, instrument = self._meta(instrument_id)
            found = target.get(key)
            if found is None:
                mark = marks.get(key)
                if mark is None:
                    mark = marks[key] = self._unit_value(instrument, None)
                found = target[key] = Exposure(key, base, venue, unit_value=mark)
            return found

        cache = self.cache
        for position in cache.positions_open():
            if need_global:
                add(everything, position.instrument_id).position += position.signed_qty
            if strategy_id is not None and position.strategy_id == strategy_id:
                add(own, position.instrument_id).position += position.signed_qty
        for order in unfinished:
            client_order_id = order.client_order_id
            leaves = order.leaves_qty.as_double()
            modified = self._pending_modify.get(client_order_id)
            if modified is not None:
                leaves = max(leaves, modified - order.filled_qty.as_double())
            if leaves <= 0:
                continue
            buy = order.side == OrderSide.BUY
            targets = []
            if need_global:
                targets.append(everything)
            if strategy_id is not None and order.strategy_id == strategy_id:
                targets.append(own)
            for target in targets:
                found = add(target, order.instrument_id)
                if buy:
                    found.open_buy += leaves
                else:
                    found.open_sell += leaves
        global_book = strategy_book = None
        if need_global:
            day_pnl = equity - self._day_start_equity if self._day is not None else 0.0
            global_book = Book(everything, equity, day_pnl, self._day_start_equity, "global")
        if strategy_id is not None:
            strategy_pnl = 0.0
            if day_pnl and self._needs_ledger:
                pnl = self.ledger.pnl(strategy_id.value, self._unit_value_by_key)
                strategy_pnl = pnl - self._day_start_pnl.get(strategy_id.value, 0.0)
            strategy_book = Book(
                own, equity, strategy_pnl, self._day_start_equity, strategy_id.value
            )
        return global_book, strategy_book

    def _unfinished(self, exclude) -> list[Order]:
        """Every unfinished order, once: open, in flight, emulated, or approved here and queued."""
        self._prune_pending()
        cache = self.cache
        orders = {}
        for order in (
            *cache.orders_open(),
            *cache.orders_inflight(),
            *cache.orders_emulated(),
            *self._pending.values(),
        ):
            orders[order.client_order_id] = order
        orders.pop(exclude, None)
        return list(orders.values())

    def _prune_pending(self) -> None:
        if self._pending:
            done = [k for k, o in self._pending.items() if o.status != OrderStatus.INITIALIZED]
            for key in done:
                del self._pending[key]

    # -- valuation ------------------------------------------------------------------------

    def _mark(self, instrument_id: InstrumentId) -> float | None:
        key = self._keys.get(instrument_id)
        if key is None:
            key = self._keys[instrument_id] = str(instrument_id)
        close = self.stats.last_close.get(key)
        return close if close is not None else last_price(self.cache, instrument_id)

    def _fx(self, currency: Currency, venue: Venue) -> float:
        """A currency in the report currency, for order values and fees (par when unknown)."""
        rate = conversion_rate(self._mark, currency, self.currency, venue)
        return 1.0 if rate is None else rate

    def _unit_value(self, instrument, price: float | None) -> float:
        if price is None:
            price = self._mark(instrument.id)
        if price is None:
            return 0.0
        fx = self._fx(instrument.quote_currency, instrument.id.venue)
        return price * float(instrument.multiplier) * fx

    def _unit_value_by_key(self, key: str) -> float | None:
        instrument = self.cache.instrument(self.facts.instrument_id(key))
        return self._unit_value(instrument, None) if instrument is not None else None

    def equity(self) -> float:
        """Total equity over every account, in the report currency (see ``venue_values``)."""
        self.venue_values()
        return self._equity

    def venue_values(self) -> tuple[tuple[Venue, float, float], ...]:
        """
        (venue, equity, gross exposure) of every account, in the report currency:
        ``seraphim.portfolio``'s valuation at the gate's marks, cached per bar and fill; what
        the accounts hold is re-read from nautilus only when fills or account events changed it.
        """
        key = (self.clock.timestamp_ns(), self._version)
        if key != self._equity_key:
            if self._holdings_version != self._account_version:
                venues = [self._venue_of(account) for account in self.cache.accounts()]
                self._holdings = [holdings(self.cache, venue) for venue in venues]
                self._holdings_version = self._account_version
            values = tuple(
                (held.venue, *value(held, self.currency, self._mark, self.portfolio))
                for held in self._holdings
                if held is not None
            )
            self._venue_values = values
            self._equity = sum(equity for _, equity, _ in values)
            self._equity_key = key
        return self._venue_values

    def _venue_of(self, account) -> Venue:
        venue = self._venues.get(account.id)
        if venue is None:
            venue = self._venues[account.id] = Venue(account.id.get_issuer())
        return venue

    # -- denials --------------------------------------------------------------------------

    def _count(self, denial: Denial) -> None:
        self.denied[denial.rule] += 1
        samples = self.denial_samples[denial.rule]
        if len(samples) < _KEEP_SAMPLES:
            samples.append(denial.reason)

    def _deny(self, order: Order, denial: Denial) -> None:
        self._count(denial)
        self._denied_ids.add(order.client_order_id)
        self.log.warning(f"SubmitOrder for {order.client_order_id} DENIED: {denial.reason}")
        if order.status != OrderStatus.INITIALIZED:
            return
        if not self.cache.order_exists(order.client_order_id):
            self.cache.add_order(order)
        event = OrderDenied(
            trader_id=order.trader_id,
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            reason=denial.reason,
            event_id=UUID4(),
            ts_init=self.clock.timestamp_ns(),
        )
        self.msgbus.send(endpoint="ExecEngine.process", msg=event)

    def _reject_modify(self, command: ModifyOrder, denial: Denial) -> None:
        self._count(denial)
        order = self.cache.order(command.client_order_id)
        self.log.warning(f"ModifyOrder for {command.client_order_id} DENIED: {denial.reason}")
        if order is None:
            return
        now = self.clock.timestamp_ns()
        event = OrderModifyRejected(
            trader_id=order.trader_id,
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            venue_order_id=order.venue_order_id,
            account_id=order.account_id,
            reason=denial.reason,
            event_id=UUID4(),
            ts_event=now,
            ts_init=now,
        )
        self.msgbus.send(endpoint="ExecEngine.process", msg=event)

    def on_modify_settled(self, client_order_id) -> None:
        """The venue confirmed or rejected a modification (or the order closed)."""
        self._pending_modify.pop(client_order_id, None)

    def is_own_denial(self, event: OrderDenied) -> bool:
        return event.client_order_id in self._denied_ids

    def count_external_denial(self, event: OrderDenied) -> None:
        """A denial by nautilus's own RiskEngine (e.g. balance or precision checks)."""
        self._count(Denial("nautilus_risk_engine", f"nautilus_risk_engine: {event.reason}"))

    # -- market data and equity samples ----------------------------------------------------

    def on_bar(self, bar: Bar) -> None:
        ts = bar.ts_event
        day = ts // NANOS_PER_DAY
        if day != self._day:
            self._roll_day(day)  # before the new bar moves any mark
        self._version += 1
        self.bars_seen += 1
        bar_type = bar.bar_type
        name = str(bar_type)  # a BarType hashes through its string: key by the string
        info = self._bar_info.get(name)
        if info is None:
            info = self._bar_info[name] = (
                str(bar_type.instrument_id),
                name,
                int(bar_type.spec.timedelta.total_seconds() * 1e9),
            )
        self.stats.on_bar(*info, ts, bar.close.as_double(), bar.volume.as_double())
        if self._needs_equity:
            self.sample(ts)

    def on_account_event(self, event) -> None:
        self._version += 1
        self._account_version += 1
        self._book_version += 1  # position events come here too

    def on_order_event(self, event) -> None:
        """Any order event may change what is open or held."""
        self._book_version += 1

    def on_fill(self, fill: OrderFilled) -> None:
        self._version += 1
        self._account_version += 1
        day = fill.ts_event // NANOS_PER_DAY
        if day != self._day:
            self._roll_day(day)
        if self._needs_ledger:
            instrument = self.cache.instrument(fill.instrument_id)
            if instrument is not None:
                sign = 1.0 if fill.order_side == OrderSide.BUY else -1.0
                value = self._unit_value(instrument, fill.last_px.as_double())
                strategy = fill.strategy_id.value
                self.ledger.on_fill(
                    strategy, str(fill.instrument_id), sign * fill.last_qty.as_double(), value
                )
                fee = fill.commission
                if fee is not None:
                    self.ledger.on_fee(
                        strategy, fee.as_double() * self._fx(fee.currency, fill.instrument_id.venue)
                    )
        if self._needs_equity:
            self.sample(fill.ts_event)

    def _roll_day(self, day: int) -> None:
        """
        A UTC day starts where the previous one ended: equity and each strategy's PnL at the
        marks of the last sample before it (called before the day's first bar moves a mark).
        """
        self._equity_key = None
        self._day_start_equity = self.equity()
        self._day = day
        if self._needs_ledger:
            self._day_start_pnl = {
                strategy: self.ledger.pnl(strategy, self._unit_value_by_key)
                for strategy in self.ledger.cash
            }
        self._equity_key = None

    def sample(self, ts: int) -> None:
        """Feed the guard with the current equity (after each bar and each fill)."""
        equity = self.equity()
        self._last_equity = equity
        if not self._guard_on:
            return
        for event in self.guard.update(ts, equity):
            self._guard_event(event)

    def _guard_event(self, event: GuardEvent) -> None:
        kind = {"trip": "guard_trip", "reset": "guard_reset", "daily_reset": "guard_daily_reset"}
        self.record(
            RiskEvent(event.ts, kind[event.kind], event.rule, event.describe(), event.state)
        )
        if self.on_guard_event is not None:
            self.on_guard_event(event)

    def record(self, event: RiskEvent) -> None:
        self.events.append(event)
        if event.kind == "guard_trip":
            self.log.error(f"RISK {event.detail}")
        else:
            self.log.warning(f"RISK {event.kind}: {event.detail}")

    def reset_guard(self, operator: str = "operator") -> None:
        event = self.guard.reset(self.clock.timestamp_ns(), self.equity())
        self._guard_event(event)

    def trip_guard(self, state: str) -> None:
        ts = self.clock.timestamp_ns()
        equity = self.equity()
        self.guard.tripped_by, self.guard.state = "operator", state
        self._guard_event(GuardEvent("trip", ts, "operator", equity, equity, 0.0, state))

    def usage(self) -> dict:
        """Every configured limit with how much of it is used now, per scope (global, each
        strategy, the ``"*"`` default as its most-used strategy) and the guard's thresholds."""
        unfinished = self._unfinished(None)
        equity = self.equity()
        largest_order: dict[str, float] = defaultdict(float)
        for order in unfinished:
            instrument = self.cache.instrument(order.instrument_id)
            if instrument is None:
                continue
            price = order.price.as_double() if order.has_price else None
            notional = order.leaves_qty.as_double() * self._unit_value(instrument, price)
            for scope in ("global", order.strategy_id.value):
                largest_order[scope] = max(largest_order[scope], notional)
        volatility = self.facts.volatility
        rows = []
        if self.global_rules:
            book, _ = self._books(None, unfinished, equity, need_global=True)
            limits = self.config.limits
            rows += scope_usage("global", limits, book, largest_order["global"], volatility)

        def strategy_rows(strategy: str, limits: RiskLimits) -> list[dict]:
            _, book = self._books(StrategyId(strategy), unfinished, equity, need_global=False)
            return scope_usage(strategy, limits, book, largest_order[strategy], volatility)

        explicit = {s: limits for s, limits in self.config.strategies.items() if s != "*"}
        for strategy, limits in explicit.items():
            rows += strategy_rows(strategy, limits)
        default = self.config.strategies.get("*")
        if default is not None:
            active = {o.strategy_id.value for o in unfinished}
            active |= {p.strategy_id.value for p in self.cache.positions_open()}
            covered = sorted(active - explicit.keys())
            if covered:
                rows += most_used([strategy_rows(s, default) for s in covered])
            else:
                rows += scope_usage("*", default, Book(equity=equity), 0.0, volatility)
        guard = self.guard
        rows += guard_usage(self.config.guard, equity, guard.peak, guard.day_start)
        return {"currency": self.config.currency, "equity": round(equity, 2), "rules": rows}

    def summary(self) -> dict:
        return {
            "enabled": self.config.enabled,
            "orders_checked": self.checked,
            "denied_orders": dict(sorted(self.denied.items())),
            "denial_samples": {k: list(v) for k, v in sorted(self.denial_samples.items())},
            "risk_events": [e.to_dict() for e in self.events],
            "trading_state": self.guard.state,
        }


def _asked(rules: RuleSet | None, shrinking_only: bool) -> bool:
    """True when a headroom question involves some of ``rules``."""
    return bool(rules) and (not shrinking_only or bool(rules.shrinking))


def _list_denial(denial: Denial) -> Denial:
    return Denial(denial.rule, f"{denial.reason} (another order in its list)")
