"""
The data client against the local exchange (manual clock: the market moves only when told),
with nautilus's message bus and cache: book deltas with checksum validation and resync, trades
without gaps across reconnects, bars only when complete, status, and historical requests.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC
from datetime import datetime
from decimal import Decimal

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.data.messages import SubscribeBars
from nautilus_trader.data.messages import SubscribeInstrumentStatus
from nautilus_trader.data.messages import SubscribeOrderBook
from nautilus_trader.data.messages import SubscribeQuoteTicks
from nautilus_trader.data.messages import SubscribeTradeTicks
from nautilus_trader.model.book import OrderBook
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.data import InstrumentStatus
from nautilus_trader.model.data import OrderBookDelta
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import BookAction
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.enums import MarketStatusAction
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import TraderId

from seraphim.adapters.kraken.common.constants import KRAKEN_VENUE
from seraphim.adapters.kraken.config import KrakenDataClientConfig
from seraphim.adapters.kraken.data import KrakenDataClient
from seraphim.adapters.kraken.http.client import KrakenHttpClient
from seraphim.adapters.kraken.http.endpoints import KrakenSpotApi
from seraphim.adapters.kraken.providers import KrakenInstrumentProvider
from seraphim.sim.kraken import KrakenSimServer
from seraphim.sim.kraken.clock import ManualClock
from seraphim.sim.kraken.stats import candles

from .helpers import run
from .helpers import sim_config

BTC = InstrumentId.from_str("BTC/USD.KRAKEN")
BAR_1M = BarType.from_str("BTC/USD.KRAKEN-1-MINUTE-LAST-EXTERNAL")


class Harness:
    """A data client wired to a message bus whose DataEngine endpoint records what arrives."""

    def __init__(self, sim: KrakenSimServer, **config: object) -> None:
        self.sim = sim
        self.clock = LiveClock()
        self.msgbus = MessageBus(TraderId("TESTER-001"), self.clock)
        self.cache = Cache()
        self.data: list = []
        self.msgbus.register("DataEngine.process", self.data.append)
        self.msgbus.register("DataEngine.response", self.data.append)
        self.http = KrakenHttpClient(sim.rest_url, None, public_rate=0)
        provider = KrakenInstrumentProvider(KrakenSpotApi(self.http))
        defaults = {
            "base_url_http": sim.rest_url,
            "base_url_ws": sim.ws_public_url,
            "public_rate_per_sec": 0,
            "update_instruments_interval_mins": None,
            "bar_close_grace_secs": 0.5,
        }
        self.client = KrakenDataClient(
            asyncio.get_running_loop(),
            self.http,
            self.msgbus,
            self.cache,
            self.clock,
            provider,
            KrakenDataClientConfig(**{**defaults, **config}),
        )
        self.book = OrderBook(BTC, BookType.L2_MBP)

    async def connect(self) -> None:
        await self.client._connect()
        for instrument in self.client._provider.list_all():
            self.cache.add_instrument(instrument)

    def of(self, kind: type) -> list:
        return [d for d in self.data if isinstance(d, kind)]

    def apply_book(self) -> None:
        for deltas in self.of(OrderBookDeltas):
            self.book.apply_deltas(deltas)
        self.data[:] = [d for d in self.data if not isinstance(d, OrderBookDeltas)]

    async def settle(self, seconds: float = 0.3) -> None:
        await asyncio.sleep(seconds)

    def exchange_top(self, depth: int = 10):
        asks, bids = self.sim.exchange.books["XXBTZUSD"].top(depth)
        return [(p, q) for p, q in bids], [(p, q) for p, q in asks]

    def nautilus_top(self, depth: int = 10):
        bids = [(lv.price.as_decimal(), lv.size().__round__(8)) for lv in self.book.bids()][:depth]
        asks = [(lv.price.as_decimal(), lv.size().__round__(8)) for lv in self.book.asks()][:depth]
        return bids, asks

    async def close(self) -> None:
        await self.client._disconnect()


async def until(predicate, timeout: float = 5.0) -> None:
    """Wait for a condition the client reaches asynchronously."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.05)


def _cmd_book() -> SubscribeOrderBook:
    return SubscribeOrderBook(
        BTC, OrderBookDelta, BookType.L2_MBP, None, KRAKEN_VENUE, UUID4(), time.time_ns(), depth=10
    )


def _same_book(h: Harness) -> bool:
    (nb, na), (eb, ea) = h.nautilus_top(), h.exchange_top()
    return [(p, Decimal(str(q))) for p, q in nb] == [(p, q) for p, q in eb] and [
        (p, Decimal(str(q))) for p, q in na
    ] == [(p, q) for p, q in ea]


def manual_sim(**overrides):
    market = {"warmup_seconds": 3600, "step_seconds": 1.0, "volatility": 0.0003}
    return KrakenSimServer(
        sim_config(clock=ManualClock(time.time()), random_walk=market, **overrides)
    )


def test_book_deltas_match_the_exchange_and_resync_after_corruption() -> None:
    async def body():
        async with manual_sim() as sim:
            h = Harness(sim)
            await h.connect()
            await h.client._subscribe_order_book_deltas(_cmd_book())
            await h.settle()
            for _ in range(5):
                await sim.advance(3)
                await h.settle(0.1)
            h.apply_book()
            assert _same_book(h)
            assert h.client.stats["book_messages"] >= 5
            assert h.client.stats.get("checksum_mismatches", 0) == 0

            # A corrupted update: detected by checksum, withheld, book resubscribed.
            sim.faults.corrupt_book(symbol="BTC/USD")
            await sim.advance(2)
            await until(
                lambda: any(d.deltas[0].action == BookAction.CLEAR for d in h.of(OrderBookDeltas))
            )
            assert h.client.stats["checksum_mismatches"] == 1
            assert h.client.stats["book_resyncs"] == 1
            h.apply_book()
            assert _same_book(h)

            # A skipped update: the next checksum fails, the book resyncs again.
            sim.faults.skip_book(symbol="BTC/USD")
            await sim.advance(2)
            await h.settle(0.2)
            await sim.advance(2)
            await until(
                lambda: h.client.stats["book_resyncs"] == 2 and h.client._books["BTC/USD"].synced
            )
            assert h.client.stats["checksum_mismatches"] == 2
            await h.settle(0.2)
            h.apply_book()
            assert _same_book(h)
            await h.close()

    run(body())


def test_trades_and_quotes_survive_a_dropped_connection_without_gaps() -> None:
    async def body():
        async with manual_sim() as sim:
            h = Harness(sim)
            await h.connect()
            await h.client._subscribe_trade_ticks(
                SubscribeTradeTicks(BTC, None, KRAKEN_VENUE, UUID4(), time.time_ns())
            )
            await h.client._subscribe_quote_ticks(
                SubscribeQuoteTicks(BTC, None, KRAKEN_VENUE, UUID4(), time.time_ns())
            )
            await h.settle()
            baseline = sim.exchange.tape["XXBTZUSD"][-1].trade_id
            assert h.of(TradeTick) == []  # the subscription snapshot is history, not news
            await sim.advance(5)
            await h.settle()
            sim.faults.drop_ws("public")
            await sim.advance(8)  # trades while the client is disconnected
            await h.settle(1.5)
            await sim.advance(3)
            await h.settle()
            assert h.client._ws.stats["reconnects"] == 1
            got = [int(t.trade_id.value) for t in h.of(TradeTick)]
            tape = [t.trade_id for t in sim.exchange.tape["XXBTZUSD"] if t.trade_id > baseline]
            assert got == tape and len(tape) > 5  # every trade once, in order
            assert h.client.stats["trades_recovered"] > 0
            quotes = h.of(QuoteTick)
            assert quotes and all(q.bid_price < q.ask_price for q in quotes)
            await h.close()

    run(body())


def test_bars_are_emitted_only_when_complete() -> None:
    async def body():
        async with manual_sim() as sim:
            h = Harness(sim)
            await h.connect()
            await h.client._subscribe_bars(
                SubscribeBars(BAR_1M, None, KRAKEN_VENUE, UUID4(), time.time_ns())
            )
            await h.settle()
            emitted_at: list[tuple[Bar, float]] = []
            for _ in range(8):
                await sim.advance(20)
                await h.settle(0.15)
                for bar in h.of(Bar):
                    if all(bar is not b for b, _ in emitted_at):
                        emitted_at.append((bar, sim.exchange.now()))
            bars = [b for b, _ in emitted_at]
            assert len(bars) >= 2
            final = {
                c.time: c for c in candles(sim.exchange.tape["XXBTZUSD"], 60, sim.exchange.now())
            }
            for bar, now in emitted_at:
                end = bar.ts_event / 1e9
                assert end <= now  # never before its minute ended
                candle = final[end - 60]
                assert bar.close.as_decimal() == candle.close  # the complete candle
                assert bar.high.as_decimal() == candle.high and bar.low.as_decimal() == candle.low
            assert len({b.ts_event for b in bars}) == len(bars)  # each minute once
            await h.close()

    run(body())


def test_instrument_status_follows_the_system_status() -> None:
    async def body():
        async with manual_sim() as sim:
            h = Harness(sim)
            await h.connect()
            await h.client._subscribe_instrument_status(
                SubscribeInstrumentStatus(BTC, None, KRAKEN_VENUE, UUID4(), time.time_ns())
            )
            await h.settle()
            sim.faults.system_status("maintenance")
            await h.settle()
            sim.faults.system_status("online")
            await h.settle()
            actions = [s.action for s in h.of(InstrumentStatus)]
            assert actions[-2:] == [MarketStatusAction.HALT, MarketStatusAction.TRADING]
            await h.close()

    run(body())


def test_historical_bars_beyond_ohlc_come_from_trades_and_trades_page() -> None:
    async def body():
        market = {
            "warmup_seconds": 16 * 3600,
            "warmup_step": 20.0,
            "trade_probability": 0.9,
        }
        async with KrakenSimServer(
            sim_config(clock=ManualClock(time.time()), random_walk=market)
        ) as sim:
            h = Harness(sim)
            await h.connect()
            now = sim.exchange.now()
            start_ns = int((now - 14 * 3600) * 1e9)
            bars = await h.client.fetch_bars(BAR_1M, start_ns, None)
            assert h.client.stats["bars_from_trades"] > 60  # older than OHLC's 720 minutes
            assert bars == sorted(bars, key=lambda b: b.ts_event)
            by_minute: dict[int, list] = {}
            for trade in sim.exchange.tape["XXBTZUSD"]:
                by_minute.setdefault(int(trade.time // 60) * 60, []).append(trade)
            checked = 0
            for bar in bars:
                trades = by_minute.get(int(bar.ts_event // 1_000_000_000) - 60)
                if not trades:
                    assert bar.volume.as_decimal() == 0  # an OHLC minute without trades
                    continue
                prices = [t.price for t in trades]
                assert bar.open.as_decimal() == prices[0], bar
                assert bar.close.as_decimal() == prices[-1]
                assert bar.high.as_decimal() == max(prices) and bar.low.as_decimal() == min(prices)
                assert bar.volume.as_decimal() == sum(t.qty for t in trades)
                checked += 1
            assert checked > 300
            assert bars[0].ts_event / 1e9 - 60 >= now - 14 * 3600 - 60
            ticks = await h.client.fetch_trade_ticks(
                h.cache.instrument(BTC), int((now - 15 * 3600) * 1e9), None
            )
            assert len(ticks) > 1000  # more than one page of 1,000
            ids = [int(t.trade_id.value) for t in ticks]
            assert ids == sorted(set(ids))
            assert h.http.stats["requests:Trades"] >= 2
            start = datetime.fromtimestamp(now - 3600, tz=UTC)
            assert start.tzinfo is not None
            await h.close()

    run(body())
