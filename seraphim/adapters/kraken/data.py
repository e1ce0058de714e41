"""
The Kraken Spot market data client (WebSocket v2 + REST).

- Quotes: the ``ticker`` channel on every best bid/offer change (or the top of a book).
- Trades: the ``trade`` channel; after a reconnect the channel's snapshot fills any gap (trades
  are deduplicated by trade id).
- L2 order book deltas: the ``book`` channel, kept in a :class:`KrakenBook` whose CRC32 checksum
  is validated on every message. On a mismatch the deltas are withheld and the book is
  resubscribed; the fresh snapshot reaches nautilus as a CLEAR plus the new levels.
- Bars: the ``ohlc`` channel; Kraken updates the forming candle, so a bar is emitted only once
  complete (the next interval began, or the interval ended ``bar_close_grace_secs`` ago).
- Instrument status from the system ``status`` and the ``instrument`` channel.
- Requests: historical bars (OHLC, and older history aggregated from Trades), trade ticks and
  instruments.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import msgspec
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock
from nautilus_trader.common.component import MessageBus
from nautilus_trader.core.datetime import dt_to_unix_nanos
from nautilus_trader.data.messages import RequestBars
from nautilus_trader.data.messages import RequestInstrument
from nautilus_trader.data.messages import RequestInstruments
from nautilus_trader.data.messages import RequestQuoteTicks
from nautilus_trader.data.messages import RequestTradeTicks
from nautilus_trader.data.messages import SubscribeBars
from nautilus_trader.data.messages import SubscribeInstrument
from nautilus_trader.data.messages import SubscribeInstruments
from nautilus_trader.data.messages import SubscribeInstrumentStatus
from nautilus_trader.data.messages import SubscribeOrderBook
from nautilus_trader.data.messages import SubscribeQuoteTicks
from nautilus_trader.data.messages import SubscribeTradeTicks
from nautilus_trader.data.messages import UnsubscribeBars
from nautilus_trader.data.messages import UnsubscribeInstrumentStatus
from nautilus_trader.data.messages import UnsubscribeOrderBook
from nautilus_trader.data.messages import UnsubscribeQuoteTicks
from nautilus_trader.data.messages import UnsubscribeTradeTicks
from nautilus_trader.live.data_client import LiveMarketDataClient
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.data import InstrumentStatus
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.enums import BookType
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from seraphim.adapters.kraken.book import KrakenBook
from seraphim.adapters.kraken.book_deltas import BookDeltaBuilder
from seraphim.adapters.kraken.common.constants import KRAKEN_VENUE
from seraphim.adapters.kraken.common.errors import KrakenError
from seraphim.adapters.kraken.config import KrakenDataClientConfig
from seraphim.adapters.kraken.history import download_bars
from seraphim.adapters.kraken.history import download_trades
from seraphim.adapters.kraken.http.client import KrakenHttpClient
from seraphim.adapters.kraken.http.endpoints import KrakenSpotApi
from seraphim.adapters.kraken.parsing import NANOS
from seraphim.adapters.kraken.parsing import interval_for_bar_type
from seraphim.adapters.kraken.parsing import is_external
from seraphim.adapters.kraken.parsing import make_bar
from seraphim.adapters.kraken.parsing import rfc3339_to_ns
from seraphim.adapters.kraken.parsing import status_action
from seraphim.adapters.kraken.providers import KrakenInstrumentProvider
from seraphim.adapters.kraken.schemas.ws import BookMessage
from seraphim.adapters.kraken.schemas.ws import InstrumentMessage
from seraphim.adapters.kraken.schemas.ws import OhlcData
from seraphim.adapters.kraken.schemas.ws import OhlcMessage
from seraphim.adapters.kraken.schemas.ws import StatusMessage
from seraphim.adapters.kraken.schemas.ws import TickerMessage
from seraphim.adapters.kraken.schemas.ws import TradeMessage
from seraphim.adapters.kraken.websocket.client import KrakenWebSocketClient

BOOK_DEPTHS = (10, 25, 100, 500, 1000)


@dataclass
class _BookState:
    instrument_id: InstrumentId
    book: KrakenBook
    builder: BookDeltaBuilder
    emit_deltas: bool = False
    emit_quotes: bool = False
    synced: bool = False
    resyncing: bool = False
    last_bbo: tuple | None = None


@dataclass
class _BarState:
    bar_type: BarType
    instrument: Instrument
    interval_ns: int
    current: OhlcData | None = None
    current_begin: int = 0
    last_emitted_begin: int = 0
    history: dict[int, OhlcData] = field(default_factory=dict)


def book_depth_for(requested: int | None, default: int) -> int:
    """The smallest Kraken book depth covering ``requested`` (0/None: the default)."""
    wanted = requested or default
    for depth in BOOK_DEPTHS:
        if depth >= wanted:
            return depth
    return BOOK_DEPTHS[-1]


def channel_of(text: str) -> str:
    """The ``channel`` field of a message without decoding the whole of it."""
    index = text.find('"channel"')
    if index < 0:
        return ""
    start = text.find('"', index + 10) + 1
    return text[start : text.find('"', start)]


class KrakenDataClient(LiveMarketDataClient):
    """Kraken Spot market data for nautilus (see the module docstring)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        client: KrakenHttpClient,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
        instrument_provider: KrakenInstrumentProvider,
        config: KrakenDataClientConfig,
        name: str | None = None,
    ) -> None:
        super().__init__(
            loop=loop,
            client_id=ClientId(name or KRAKEN_VENUE.value),
            venue=KRAKEN_VENUE,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            instrument_provider=instrument_provider,
            config=config,
        )
        self._config = config
        self._http = client
        self._api = KrakenSpotApi(client)
        self._provider: KrakenInstrumentProvider = instrument_provider
        self._ws = KrakenWebSocketClient(
            config.base_url_ws,
            self._handle_ws_message,
            name="public",
            on_reconnect=self._on_ws_reconnect,
            idle_timeout=config.ws_idle_timeout_secs,
            logger=self._log,
        )
        self._dec_book = msgspec.json.Decoder(BookMessage)
        self._dec_ticker = msgspec.json.Decoder(TickerMessage)
        self._dec_trade = msgspec.json.Decoder(TradeMessage)
        self._dec_ohlc = msgspec.json.Decoder(OhlcMessage)
        self._dec_status = msgspec.json.Decoder(StatusMessage)
        self._dec_instrument = msgspec.json.Decoder(InstrumentMessage)

        self._books: dict[str, _BookState] = {}  # v2 symbol -> book
        self._book_params: dict[str, dict[str, Any]] = {}
        self._ticker_symbols: dict[str, InstrumentId] = {}
        self._trade_symbols: dict[str, InstrumentId] = {}
        self._last_trade_id: dict[str, int] = {}
        self._bars: dict[tuple[str, int], _BarState] = {}
        self._status_ids: set[InstrumentId] = set()
        self._system_status: str | None = None
        self._pair_status: dict[str, str] = {}
        self._exchange_offset_ns = 0  # exchange time - local time, from message timestamps
        self._tasks_bg: list[asyncio.Task] = []
        self.stats: Counter[str] = Counter()

    # ------------------------------------------------------------------ lifecycle

    async def _connect(self) -> None:
        await self._provider.initialize()
        for instrument in self._provider.list_all():
            self._handle_data(instrument)
        for currency in self._provider.currencies().values():
            self._cache.add_currency(currency)
        await self._ws.connect()
        self._tasks_bg.append(self._loop.create_task(self._bar_close_loop()))
        interval = self._config.update_instruments_interval_mins
        if interval:
            self._tasks_bg.append(self._loop.create_task(self._update_instruments(interval)))

    async def _disconnect(self) -> None:
        for task in self._tasks_bg:
            task.cancel()
        for task in self._tasks_bg:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks_bg.clear()
        await self._ws.disconnect()
        await self._http.close()

    async def _update_instruments(self, interval_mins: int) -> None:
        while True:
            await asyncio.sleep(interval_mins * 60)
            try:
                await self._provider.initialize(reload=True)
                for instrument in self._provider.list_all():
                    self._handle_data(instrument)
            except KrakenError as e:
                self._log.warning(f"Instrument reload failed: {e}")

    def _on_ws_reconnect(self) -> None:
        self.stats["reconnects"] += 1
        for state in self._books.values():
            state.synced = False  # the resubscribed snapshot resynchronises

    # ------------------------------------------------------------------ helpers

    def _instrument(self, instrument_id: InstrumentId) -> Instrument:
        instrument = self._cache.instrument(instrument_id) or self._provider.find(instrument_id)
        if instrument is None:
            raise ValueError(f"instrument {instrument_id} not loaded (check the `pairs` config)")
        return instrument

    def _symbol(self, instrument_id: InstrumentId) -> str:
        return self._provider.ws_symbol(instrument_id)

    def exchange_now_ns(self) -> int:
        """The exchange clock as estimated from message timestamps."""
        return self._clock.timestamp_ns() + self._exchange_offset_ns

    def _note_exchange_time(self, ts_ns: int) -> None:
        offset = ts_ns - self._clock.timestamp_ns()
        if offset > self._exchange_offset_ns or self._exchange_offset_ns == 0:
            self._exchange_offset_ns = offset

    # ------------------------------------------------------------------ subscriptions

    async def _subscribe_instruments(self, command: SubscribeInstruments) -> None:
        pass  # instruments are pushed at connect and on every reload

    async def _subscribe_instrument(self, command: SubscribeInstrument) -> None:
        pass

    async def _subscribe_order_book_deltas(self, command: SubscribeOrderBook) -> None:
        if command.book_type == BookType.L3_MBO:
            self._log.error("Kraken Spot has no L3 (order by order) book; use L2_MBP")
            return
        await self._subscribe_book(command.instrument_id, command.depth, deltas=True)

    async def _subscribe_order_book_snapshots(self, command: SubscribeOrderBook) -> None:
        await self._subscribe_order_book_deltas(command)

    async def _subscribe_book(
        self, instrument_id: InstrumentId, depth: int | None, *, deltas: bool = False
    ) -> None:
        instrument = self._instrument(instrument_id)
        symbol = self._symbol(instrument_id)
        state = self._books.get(symbol)
        wanted = book_depth_for(depth, self._config.book_depth)
        if state is not None and state.book.depth >= wanted:
            state.emit_deltas = state.emit_deltas or deltas
            return
        if state is not None:  # deeper book wanted: replace the subscription
            await self._ws.unsubscribe(self._book_params[symbol])
        state = _BookState(
            instrument_id,
            KrakenBook(wanted, instrument.price_precision, instrument.size_precision),
            BookDeltaBuilder(instrument_id, instrument.price_precision, instrument.size_precision),
            emit_deltas=deltas or (state.emit_deltas if state else False),
            emit_quotes=state.emit_quotes if state else False,
        )
        self._books[symbol] = state
        params = {"channel": "book", "symbol": [symbol], "depth": wanted, "snapshot": True}
        self._book_params[symbol] = params
        await self._ws.subscribe(params)

    async def _unsubscribe_order_book_deltas(self, command: UnsubscribeOrderBook) -> None:
        symbol = self._symbol(command.instrument_id)
        state = self._books.get(symbol)
        if state is None:
            return
        state.emit_deltas = False
        if not state.emit_quotes:
            self._books.pop(symbol, None)
            await self._ws.unsubscribe(self._book_params.pop(symbol))

    async def _unsubscribe_order_book_snapshots(self, command: UnsubscribeOrderBook) -> None:
        await self._unsubscribe_order_book_deltas(command)

    async def _subscribe_quote_ticks(self, command: SubscribeQuoteTicks) -> None:
        instrument_id = command.instrument_id
        symbol = self._symbol(instrument_id)
        if self._config.quotes_from == "book":
            await self._subscribe_book(instrument_id, 10)
            self._books[symbol].emit_quotes = True
            return
        self._ticker_symbols[symbol] = instrument_id
        await self._ws.subscribe(
            {"channel": "ticker", "symbol": [symbol], "event_trigger": "bbo", "snapshot": True}
        )

    async def _unsubscribe_quote_ticks(self, command: UnsubscribeQuoteTicks) -> None:
        symbol = self._symbol(command.instrument_id)
        if self._config.quotes_from == "book":
            state = self._books.get(symbol)
            if state is not None:
                state.emit_quotes = False
            return
        self._ticker_symbols.pop(symbol, None)
        await self._ws.unsubscribe(
            {"channel": "ticker", "symbol": [symbol], "event_trigger": "bbo", "snapshot": True}
        )

    async def _subscribe_trade_ticks(self, command: SubscribeTradeTicks) -> None:
        symbol = self._symbol(command.instrument_id)
        self._instrument(command.instrument_id)
        self._trade_symbols[symbol] = command.instrument_id
        await self._ws.subscribe({"channel": "trade", "symbol": [symbol], "snapshot": True})

    async def _unsubscribe_trade_ticks(self, command: UnsubscribeTradeTicks) -> None:
        symbol = self._symbol(command.instrument_id)
        self._trade_symbols.pop(symbol, None)
        await self._ws.unsubscribe({"channel": "trade", "symbol": [symbol], "snapshot": True})

    async def _subscribe_bars(self, command: SubscribeBars) -> None:
        bar_type = command.bar_type
        if not is_external(bar_type):
            self._log.error(f"Cannot subscribe {bar_type}: only EXTERNAL bars come from Kraken")
            return
        interval = interval_for_bar_type(bar_type)
        instrument = self._instrument(bar_type.instrument_id)
        symbol = self._symbol(bar_type.instrument_id)
        self._bars[(symbol, interval)] = _BarState(bar_type, instrument, interval * 60 * NANOS)
        await self._ws.subscribe(
            {"channel": "ohlc", "symbol": [symbol], "interval": interval, "snapshot": True}
        )

    async def _unsubscribe_bars(self, command: UnsubscribeBars) -> None:
        interval = interval_for_bar_type(command.bar_type)
        symbol = self._symbol(command.bar_type.instrument_id)
        self._bars.pop((symbol, interval), None)
        await self._ws.unsubscribe(
            {"channel": "ohlc", "symbol": [symbol], "interval": interval, "snapshot": True}
        )

    async def _subscribe_instrument_status(self, command: SubscribeInstrumentStatus) -> None:
        self._status_ids.add(command.instrument_id)
        await self._ws.subscribe({"channel": "instrument", "snapshot": True})
        if self._system_status is not None:
            self._emit_status(command.instrument_id, self._system_status, "system")

    async def _unsubscribe_instrument_status(self, command: UnsubscribeInstrumentStatus) -> None:
        self._status_ids.discard(command.instrument_id)

    # ------------------------------------------------------------------ messages

    def _handle_ws_message(self, text: str) -> None:
        channel = channel_of(text)
        if channel == "book":
            self._on_book(text)
        elif channel == "heartbeat":
            return
        elif channel == "ticker":
            self._on_ticker(text)
        elif channel == "trade":
            self._on_trade(text)
        elif channel == "ohlc":
            self._on_ohlc(text)
        elif channel == "status":
            self._on_status(text)
        elif channel == "instrument":
            self._on_instrument(text)
        else:
            self.stats["unknown_channel"] += 1

    def _on_book(self, text: str) -> None:
        try:
            message = self._dec_book.decode(text)
        except msgspec.DecodeError as e:
            self.stats["malformed"] += 1
            self._log.error(f"Malformed book message ({e}): {text[:120]!r}")
            return
        snapshot = message.type == "snapshot"
        ts_init = self._clock.timestamp_ns()
        for data in message.data:
            state = self._books.get(data.symbol)
            if state is None:
                continue
            book = state.book
            if snapshot:
                book.clear()
                state.synced = True
                state.resyncing = False
            elif not state.synced:
                self.stats["book_skipped_unsynced"] += 1
                continue
            changes = book.apply_wire(data.bids, data.asks)
            self.stats["book_messages"] += 1
            if book.checksum() != data.checksum:
                self.stats["checksum_mismatches"] += 1
                self._log.warning(
                    f"Kraken book checksum mismatch for {data.symbol} "
                    f"(local {book.checksum()}, venue {data.checksum}); resynchronising"
                )
                self._resync_book(data.symbol, state)
                continue
            ts_event = rfc3339_to_ns(data.timestamp) if data.timestamp else ts_init
            if state.emit_deltas:
                deltas = state.builder.build(changes, snapshot, ts_event, ts_init)
                if deltas is not None:
                    self._handle_data(deltas)
            if state.emit_quotes:
                self._book_quote(state, ts_event, ts_init)

    def _book_quote(self, state: _BookState, ts_event: int, ts_init: int) -> None:
        bid, ask = state.book.best_bid(), state.book.best_ask()
        if bid is None or ask is None or (bid, ask) == state.last_bbo:
            return
        state.last_bbo = (bid, ask)
        pp, sp = state.book.price_precision, state.book.size_precision
        pmul, qmul = state.builder.price_mul, state.builder.qty_mul
        self._handle_data(
            QuoteTick(
                state.instrument_id,
                Price.from_raw(bid[0] * pmul, pp),
                Price.from_raw(ask[0] * pmul, pp),
                Quantity.from_raw(bid[1] * qmul, sp),
                Quantity.from_raw(ask[1] * qmul, sp),
                ts_event,
                ts_init,
            )
        )

    def _resync_book(self, symbol: str, state: _BookState) -> None:
        state.synced = False
        if state.resyncing:
            return
        state.resyncing = True
        self.stats["book_resyncs"] += 1

        async def resync() -> None:
            params = self._book_params.get(symbol)
            if params is None:
                return
            await self._ws.unsubscribe(params)
            await self._ws.subscribe(params)

        self.create_task(resync(), log_msg=f"kraken_book_resync_{symbol}")

    def _on_ticker(self, text: str) -> None:
        message = self._dec_ticker.decode(text)
        ts_init = self._clock.timestamp_ns()
        for data in message.data:
            instrument_id = self._ticker_symbols.get(data.symbol)
            if instrument_id is None:
                continue
            instrument = self._instrument(instrument_id)
            ts_event = rfc3339_to_ns(data.timestamp) if data.timestamp else ts_init
            self._handle_data(
                QuoteTick(
                    instrument_id,
                    instrument.make_price(data.bid),
                    instrument.make_price(data.ask),
                    instrument.make_qty(data.bid_qty),
                    instrument.make_qty(data.ask_qty),
                    ts_event,
                    ts_init,
                )
            )

    def _on_trade(self, text: str) -> None:
        message = self._dec_trade.decode(text)
        ts_init = self._clock.timestamp_ns()
        snapshot = message.type == "snapshot"
        first_snapshot = {d.symbol for d in message.data if d.symbol not in self._last_trade_id}
        for data in message.data:
            instrument_id = self._trade_symbols.get(data.symbol)
            if instrument_id is None:
                continue
            last = self._last_trade_id.get(data.symbol)
            if last is not None and data.trade_id <= last:
                self.stats["trades_deduplicated"] += 1
                continue
            self._last_trade_id[data.symbol] = data.trade_id
            ts_event = rfc3339_to_ns(data.timestamp)
            self._note_exchange_time(ts_event)
            if snapshot and data.symbol in first_snapshot:
                continue  # the first snapshot is history: it only sets the baseline
            if snapshot:
                self.stats["trades_recovered"] += 1  # missed while disconnected
            instrument = self._instrument(instrument_id)
            self._handle_data(
                TradeTick(
                    instrument_id,
                    instrument.make_price(data.price),
                    instrument.make_qty(data.qty),
                    AggressorSide.BUYER if data.side == "buy" else AggressorSide.SELLER,
                    TradeId(str(data.trade_id)),
                    ts_event,
                    ts_init,
                )
            )

    def _on_ohlc(self, text: str) -> None:
        message = self._dec_ohlc.decode(text)
        if message.timestamp:
            self._note_exchange_time(rfc3339_to_ns(message.timestamp))
        candles: dict[tuple[str, int], list[OhlcData]] = {}
        for data in message.data:
            candles.setdefault((data.symbol, data.interval), []).append(data)
        for key, rows in candles.items():
            state = self._bars.get(key)
            if state is None:
                continue
            rows.sort(key=lambda d: d.interval_begin)
            if message.type == "snapshot":
                self._ohlc_snapshot(state, rows)
            else:
                for data in rows:
                    self._ohlc_update(state, data)

    def _ohlc_snapshot(self, state: _BarState, rows: list[OhlcData]) -> None:
        if not rows:
            return
        *complete, current = rows
        first_time = state.last_emitted_begin == 0 and state.current is None
        for data in complete:
            begin = rfc3339_to_ns(data.interval_begin)
            if first_time:
                state.last_emitted_begin = max(state.last_emitted_begin, begin)
            elif begin > state.last_emitted_begin:  # missed while disconnected
                self.stats["bars_recovered"] += 1
                self._emit_bar(state, data, begin)
        begin = rfc3339_to_ns(current.interval_begin)
        if state.current is not None and state.last_emitted_begin < state.current_begin < begin:
            self._emit_bar(state, state.current, state.current_begin)
        state.current, state.current_begin = current, begin

    def _ohlc_update(self, state: _BarState, data: OhlcData) -> None:
        begin = rfc3339_to_ns(data.interval_begin)
        if begin < state.current_begin:
            return  # a late update of an older candle
        if state.current is not None and state.last_emitted_begin < state.current_begin < begin:
            self._emit_bar(state, state.current, state.current_begin)
        state.current, state.current_begin = data, begin

    def _emit_bar(self, state: _BarState, data: OhlcData, begin: int) -> None:
        state.last_emitted_begin = max(state.last_emitted_begin, begin)
        bar = make_bar(
            state.bar_type,
            state.instrument,
            begin,
            state.interval_ns,
            data.open,
            data.high,
            data.low,
            data.close,
            data.volume,
            self._clock.timestamp_ns(),
            self._config.bars_timestamp_on_close,
        )
        self.stats["bars"] += 1
        self._handle_data(bar)

    async def _bar_close_loop(self) -> None:
        grace_ns = int(self._config.bar_close_grace_secs * NANOS)
        while True:
            await asyncio.sleep(0.5)
            now = self.exchange_now_ns()
            for state in list(self._bars.values()):
                current = state.current
                if current is None or state.current_begin <= state.last_emitted_begin:
                    continue
                if now >= state.current_begin + state.interval_ns + grace_ns:
                    self.stats["bars_closed_by_timer"] += 1
                    self._emit_bar(state, current, state.current_begin)

    def _on_status(self, text: str) -> None:
        message = self._dec_status.decode(text)
        for data in message.data:
            changed = data.system != self._system_status
            self._system_status = data.system
            if changed:
                for instrument_id in self._status_ids:
                    self._emit_status(instrument_id, data.system, "system")

    def _on_instrument(self, text: str) -> None:
        message = self._dec_instrument.decode(text)
        for pair in message.data.pairs:
            previous = self._pair_status.get(pair.symbol)
            self._pair_status[pair.symbol] = pair.status
            instrument_id = self._provider.instrument_id_for(pair.symbol)
            if instrument_id in self._status_ids and previous != pair.status:
                self._emit_status(instrument_id, pair.status, "pair")

    def _emit_status(self, instrument_id: InstrumentId, status: str, source: str) -> None:
        action, is_trading, is_quoting = status_action(status)
        now = self._clock.timestamp_ns()
        self._handle_data(
            InstrumentStatus(
                instrument_id,
                action,
                now,
                now,
                reason=f"{source}:{status}",
                is_trading=is_trading,
                is_quoting=is_quoting,
            )
        )

    # ------------------------------------------------------------------ requests

    async def _request_instrument(self, request: RequestInstrument) -> None:
        instrument = self._provider.find(request.instrument_id)
        if instrument is None:
            try:
                await self._provider.load_async(request.instrument_id)
            except KrakenError as e:
                self._log.error(f"Cannot load {request.instrument_id}: {e}")
                return
            instrument = self._provider.find(request.instrument_id)
        if instrument is None:
            self._log.error(f"Cannot find instrument {request.instrument_id}")
            return
        self._handle_instrument(instrument, request.id, request.start, request.end, request.params)

    async def _request_instruments(self, request: RequestInstruments) -> None:
        instruments = [i for i in self._provider.list_all() if i.venue == request.venue]
        self._handle_instruments(
            request.venue, instruments, request.id, request.start, request.end, request.params
        )

    async def _request_quote_ticks(self, request: RequestQuoteTicks) -> None:
        self._log.error(
            "Kraken has no historical quote (bid/ask with sizes) endpoint; "
            "request trade ticks or bars instead"
        )
        self._handle_quote_ticks(
            request.instrument_id, [], request.id, request.start, request.end, request.params
        )

    async def _request_trade_ticks(self, request: RequestTradeTicks) -> None:
        instrument = self._instrument(request.instrument_id)
        start_ns = dt_to_unix_nanos(request.start) if request.start is not None else 0
        end_ns = dt_to_unix_nanos(request.end) if request.end is not None else None
        limit = request.limit or 0
        try:
            ticks = await self.fetch_trade_ticks(instrument, start_ns, end_ns, limit)
        except KrakenError as e:
            self._log.error(f"Trade ticks request for {instrument.id} failed: {e}")
            ticks = []
        self._handle_trade_ticks(
            request.instrument_id, ticks, request.id, request.start, request.end, request.params
        )

    async def fetch_trade_ticks(
        self, instrument: Instrument, start_ns: int, end_ns: int | None, limit: int = 0
    ) -> list[TradeTick]:
        """Trades from ``start_ns`` (exclusive) to ``end_ns`` via the paginated Trades endpoint."""
        return await download_trades(
            self._api,
            instrument,
            self._provider.pair_key(instrument.id),
            start_ns,
            end_ns,
            limit=limit,
            max_pages=self._config.max_trade_pages,
        )

    async def _request_bars(self, request: RequestBars) -> None:
        bar_type = request.bar_type
        try:
            if not is_external(bar_type):
                raise ValueError(f"{bar_type}: only EXTERNAL bars can be requested from Kraken")
            bars = await self.fetch_bars(
                bar_type,
                dt_to_unix_nanos(request.start) if request.start is not None else None,
                dt_to_unix_nanos(request.end) if request.end is not None else None,
                request.limit or 0,
            )
        except (KrakenError, ValueError) as e:
            self._log.error(f"Bars request for {bar_type} failed: {e}")
            bars = []
        self._handle_bars(bar_type, bars, request.id, request.start, request.end, request.params)

    async def fetch_bars(
        self, bar_type: BarType, start_ns: int | None, end_ns: int | None, limit: int = 0
    ) -> list[Bar]:
        """
        Completed bars in [start, end]: Kraken's OHLC (up to 720), and for anything older the
        Trades endpoint aggregated into bars of the same interval.
        """
        instrument = self._instrument(bar_type.instrument_id)
        bars, from_trades = await download_bars(
            self._api,
            instrument,
            self._provider.pair_key(instrument.id),
            bar_type,
            start_ns,
            end_ns,
            now_ns=self.exchange_now_ns(),
            limit=limit,
            max_trade_pages=self._config.max_trade_pages,
            on_close=self._config.bars_timestamp_on_close,
        )
        self.stats["bars_from_trades"] += from_trades
        return bars

    # ------------------------------------------------------------------ introspection

    def book_state(self, instrument_id: InstrumentId) -> KrakenBook | None:
        """The checksum-validated book of a subscribed instrument (for tests and tools)."""
        state = self._books.get(self._symbol(instrument_id))
        return state.book if state else None

    def adapter_stats(self) -> dict[str, int]:
        """Counters of what happened (messages, mismatches, resyncs, reconnects...)."""
        return {**self.stats, **{f"ws_{k}": v for k, v in self._ws.stats.items()}}
