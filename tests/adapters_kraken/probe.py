"""
A scripted nautilus strategy for the end-to-end tests: it subscribes to every kind of data,
runs a named scenario of orders at fixed offsets from its start, and records what it receives.

Records live in ``RECORDS[scenario]`` (the node runs in the test's process).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.trading.strategy import Strategy

RECORDS: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(list))


class ProbeConfig(StrategyConfig, frozen=True):
    instrument_id: InstrumentId
    scenario: str = "data"
    bar_type: str | None = None
    book: bool = True


class ProbeStrategy(Strategy):
    """Subscribes to quotes, trades, book deltas and bars; runs ``config.scenario``."""

    def __init__(self, config: ProbeConfig) -> None:
        super().__init__(config)
        self.rec = RECORDS[config.scenario]
        self.ids: dict[str, Any] = {}
        self.book: OrderBook | None = None

    # ------------------------------------------------------------------ data

    def on_start(self) -> None:
        iid = self.config.instrument_id
        self.instrument = self.cache.instrument(iid)
        self.subscribe_quote_ticks(iid)
        self.subscribe_trade_ticks(iid)
        if self.config.book:
            self.book = OrderBook(iid, BookType.L2_MBP)
            self.subscribe_order_book_deltas(iid, BookType.L2_MBP, depth=10)
        if self.config.bar_type:
            bar_type = BarType.from_str(self.config.bar_type)
            self.subscribe_bars(bar_type)
            self.request_bars(bar_type, start=self.clock.utc_now() - bar_type.spec.timedelta * 30)
        self.rec["started_ns"].append(self.clock.timestamp_ns())
        # A test may ask the node to stop (from its own thread) by appending to rec["stop"].
        self.clock.set_timer("stop-check", timedelta(milliseconds=100), callback=self._stop_check)
        script = getattr(self, f"scenario_{self.config.scenario}", None)
        if script is not None:
            script()

    def _stop_check(self, _event) -> None:
        if self.rec["stop"] and not self.rec["stop_sent"]:
            self.rec["stop_sent"].append(True)
            self.shutdown_system(f"test: {self.rec['stop'][0]}")

    def on_quote_tick(self, tick: QuoteTick) -> None:
        self.rec["quotes"].append(tick)

    def on_trade_tick(self, tick: TradeTick) -> None:
        self.rec["trades"].append(tick)

    def on_order_book_deltas(self, deltas: OrderBookDeltas) -> None:
        self.rec["deltas"].append(deltas)
        if self.book is not None:
            self.book.apply_deltas(deltas)

    def on_bar(self, bar: Bar) -> None:
        self.rec["bars"].append(bar)

    def on_historical_data(self, data) -> None:
        self.rec["historical"].append(data)

    def on_event(self, event) -> None:
        self.rec["events"].append(event)

    def on_stop(self) -> None:
        if self.book is not None:
            self.rec["book"].append(self.book)
        if self.config.scenario == "close_on_stop":
            self.close_position_on_stop()

    def on_order_filled(self, event) -> None:
        bought = self.ids.get("buy") == event.client_order_id
        if self.config.scenario == "close_on_stop" and bought and not self.rec["stop_sent"]:
            self.rec["stop_sent"].append(True)  # once, though the buy may fill in parts
            for hook in self.rec["on_bought"]:
                hook()  # the test arms the venue's faults
            self.shutdown_system("stop with a position open")

    # ------------------------------------------------------------------ helpers

    def at(self, seconds: float, action) -> None:
        name = f"step-{len(self.ids)}-{seconds}-{action.__name__}"
        self.ids[name] = None
        self.clock.set_time_alert_ns(
            name, self.clock.timestamp_ns() + int(seconds * 1e9), lambda _e: action()
        )

    def mid(self) -> Decimal:
        quote = self.cache.quote_tick(self.config.instrument_id)
        if quote is None:
            book = self.cache.order_book(self.config.instrument_id)
            return Decimal(str(book.midpoint())) if book else Decimal(65000)
        return (quote.bid_price.as_decimal() + quote.ask_price.as_decimal()) / 2

    def price(self, offset: float):
        return self.instrument.make_price(self.mid() + Decimal(str(offset)))

    def qty(self, value: str):
        return self.instrument.make_qty(Decimal(value))

    def submit(self, key: str, order) -> None:
        self.ids[key] = order.client_order_id
        self.rec["submitted"].append((key, order.client_order_id))
        self.submit_order(order)

    # ------------------------------------------------------------------ scenarios

    def scenario_orders(self) -> None:
        """Every order type and action the adapter supports, against a live book."""
        iid = self.config.instrument_id
        f = self.order_factory

        def first_wave() -> None:
            self.submit("market", f.market(iid, OrderSide.BUY, self.qty("0.01")))
            self.submit(
                "limit",
                f.limit(iid, OrderSide.BUY, self.qty("0.02"), self.price(-500), post_only=True),
            )
            self.submit(
                "stop",
                f.stop_market(iid, OrderSide.SELL, self.qty("0.01"), self.price(-1500)),
            )
            self.submit(
                "stop_limit",
                f.stop_limit(
                    iid, OrderSide.SELL, self.qty("0.01"), self.price(-1600), self.price(-1500)
                ),
            )
            self.submit(
                "take_profit",
                f.market_if_touched(iid, OrderSide.SELL, self.qty("0.01"), self.price(2000)),
            )
            self.submit(
                "ioc",
                f.limit(
                    iid, OrderSide.BUY, self.qty("0.01"), self.price(-700),
                    time_in_force=TimeInForce.IOC,
                ),
            )  # fmt: skip
            self.submit(
                "gtd",
                f.limit(
                    iid, OrderSide.BUY, self.qty("0.01"), self.price(-800),
                    time_in_force=TimeInForce.GTD,
                    expire_time=self.clock.utc_now() + __import__("datetime").timedelta(seconds=3),
                ),
            )  # fmt: skip
            self.submit(
                "crossing_sell", f.limit(iid, OrderSide.SELL, self.qty("0.005"), self.price(-200))
            )

        def modify() -> None:
            order = self.cache.order(self.ids["limit"])
            self.modify_order(order, quantity=self.qty("0.03"), price=self.price(-400))

        def cancel() -> None:
            self.cancel_order(self.cache.order(self.ids["limit"]))

        def cancel_all() -> None:
            self.cancel_all_orders(iid)

        def unusual() -> None:
            self.submit(
                "iceberg",
                f.limit(iid, OrderSide.BUY, self.qty("0.02"), self.price(-900),
                        display_qty=self.qty("0.01")),
            )  # fmt: skip
            self.submit(
                "post_only_crossing",
                f.limit(iid, OrderSide.BUY, self.qty("0.01"), self.price(300), post_only=True),
            )
            self.submit(
                "fok", f.market(iid, OrderSide.BUY, self.qty("0.01"), time_in_force=TimeInForce.FOK)
            )

        self.at(1.0, first_wave)
        self.at(2.5, modify)
        self.at(4.0, cancel)
        self.at(5.0, unusual)
        self.at(5.5, cancel_all)

    def scenario_restart_first(self) -> None:
        """Leave a resting order and a position behind (the node is then killed)."""
        iid = self.config.instrument_id
        f = self.order_factory

        def go() -> None:
            self.submit("buy", f.market(iid, OrderSide.BUY, self.qty("0.02")))
            self.submit("rest", f.limit(iid, OrderSide.BUY, self.qty("0.01"), self.price(-900)))

        self.at(1.0, go)

    def scenario_restart_second(self) -> None:
        """After a restart: only submit what is not already working (idempotent strategy)."""
        iid = self.config.instrument_id

        def check() -> None:
            open_orders = self.cache.orders_open(instrument_id=iid)
            position = self.portfolio.net_position(iid)
            self.rec["adopted_open_orders"].append([o.client_order_id.value for o in open_orders])
            self.rec["adopted_position"].append(str(position))
            if not open_orders:
                self.submit(
                    "rest",
                    self.order_factory.limit(
                        iid, OrderSide.BUY, self.qty("0.01"), self.price(-900)
                    ),
                )
            if position == 0:
                self.submit("buy", self.order_factory.market(iid, OrderSide.BUY, self.qty("0.02")))

        self.at(1.5, check)

    def scenario_lost_ack(self) -> None:
        """One order whose acknowledgement the venue loses."""

        def go() -> None:
            self.submit(
                "lost",
                self.order_factory.limit(
                    self.config.instrument_id, OrderSide.BUY, self.qty("0.01"), self.price(-500)
                ),
            )

        self.at(1.0, go)

    def scenario_paper(self) -> None:
        """Paper trading: one market buy, filled by nautilus's sandbox on the venue's data."""

        def go() -> None:
            order = self.order_factory.market(
                self.config.instrument_id, OrderSide.BUY, self.qty("0.01")
            )
            self.submit("paper", order)

        self.at(1.5, go)

    def scenario_close_on_stop(self) -> None:
        """Buy; once filled, stop the node: on_stop closes the position (a market sell)."""

        def buy() -> None:
            self.submit(
                "buy",
                self.order_factory.market(
                    self.config.instrument_id, OrderSide.BUY, self.qty("0.02")
                ),
            )

        self.at(1.0, buy)

    def close_position_on_stop(self) -> None:
        position = self.portfolio.net_position(self.config.instrument_id)
        if position > 0:
            self.submit(
                "close",
                self.order_factory.market(
                    self.config.instrument_id, OrderSide.SELL, self.qty(str(position))
                ),
            )

    def scenario_steady(self) -> None:
        """A market order every half second, buys and sells alternating, until the node stops."""
        iid = self.config.instrument_id

        def trade(_event=None) -> None:
            side = OrderSide.BUY if len(self.rec["submitted"]) % 2 == 0 else OrderSide.SELL
            self.submit(
                f"steady-{len(self.rec['submitted'])}",
                self.order_factory.market(iid, side, self.qty("0.01")),
            )

        self.clock.set_timer("steady", timedelta(milliseconds=500), callback=trade)

    def scenario_fills(self) -> None:
        """A few market orders (for duplicated / reordered execution messages)."""
        iid = self.config.instrument_id

        def buy() -> None:
            self.submit(
                f"buy-{len(self.ids)}",
                self.order_factory.market(iid, OrderSide.BUY, self.qty("0.01")),
            )

        def sell() -> None:
            self.submit(
                f"sell-{len(self.ids)}",
                self.order_factory.market(iid, OrderSide.SELL, self.qty("0.01")),
            )

        for i in range(3):
            self.at(1.0 + i, buy)
            self.at(1.5 + i, sell)
