"""
Historical bars from IB into the catalog, through nautilus's ``HistoricInteractiveBrokersClient``.

IB answers one historical request with a bounded span (the "duration and bar size" table of
the TWS API: 1 day of 1-minute bars, a week of 5-minute bars, a month of hourly bars, a year
of daily bars) and paces them: no identical request within 15 s, at most 5 requests for one
contract within 2 s, at most 60 within 10 minutes; more earns error 162 "pacing violation".
So a long range is cut into chunks of the largest span the bar size allows, requested oldest
first through a :class:`HistoricalPacer` that waits as the rules require, and a chunk that
still meets a pacing violation is retried after a back-off. "No data" chunks (weekends,
holidays) are skipped. Bars are re-stamped at their close (``ts_event = ts_init``), the
convention of every series in the catalog, and anything outside ``[start, end]`` or not yet
complete is dropped.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import socket
import time
from collections import deque
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarSpecification
from nautilus_trader.model.enums import BarAggregation

from seraphim.catalog.store import IngestResult
from seraphim.catalog.store import Provenance
from seraphim.catalog.store import SeraphimCatalog

DAY = 86_400
# Largest request span per bar size, after the TWS API's duration/bar size table.
_SECOND_SPANS = {1: 1_800, 5: 3_600, 10: 14_400, 15: 14_400, 30: 28_800}
_MINUTE_SPANS = {1: DAY, 2: 2 * DAY, 3: 7 * DAY, 5: 7 * DAY, 10: 7 * DAY, 15: 7 * DAY}
_IB_STEPS = {
    BarAggregation.SECOND: (5, 10, 15, 30),
    BarAggregation.MINUTE: (1, 2, 3, 5, 10, 15, 20, 30),
    BarAggregation.HOUR: (1, 2, 3, 4, 8),
    BarAggregation.DAY: (1,),
    BarAggregation.WEEK: (1,),
}
SOURCE = "ibkr-historical"


class HistoryError(Exception):
    """A download that cannot complete; the message says why."""


def parse_bar_spec(text: str) -> BarSpecification:
    """``1-HOUR`` or ``1-HOUR-LAST`` (also ``MID``, ``BID``, ``ASK``) as IB can serve it."""
    parts = text.strip().upper().split("-")
    if len(parts) == 2:
        parts.append("LAST")
    try:
        spec = BarSpecification.from_str("-".join(parts))
    except (ValueError, KeyError) as e:
        raise HistoryError(f"bar {text!r}: expected STEP-AGGREGATION[-PRICE], e.g. 1-HOUR") from e
    steps = _IB_STEPS.get(spec.aggregation)
    if steps is None or spec.step not in steps:
        raise HistoryError(
            f"bar {text!r}: IB serves seconds {_IB_STEPS[BarAggregation.SECOND]}, "
            f"minutes {_IB_STEPS[BarAggregation.MINUTE]}, hours {_IB_STEPS[BarAggregation.HOUR]}"
            ", 1 day or 1 week"
        )
    return spec


def max_span_seconds(spec: BarSpecification) -> int:
    """The longest span one request may cover for this bar size."""
    if spec.aggregation == BarAggregation.SECOND:
        return _SECOND_SPANS[spec.step]
    if spec.aggregation == BarAggregation.MINUTE:
        return _MINUTE_SPANS.get(spec.step, 30 * DAY)
    if spec.aggregation == BarAggregation.HOUR:
        return 30 * DAY
    return 365 * DAY


@dataclass(frozen=True)
class Chunk:
    """One request: bars in ``[start, end)`` asked as ``duration`` back from ``end``."""

    start: dt.datetime
    end: dt.datetime

    @property
    def duration(self) -> str:
        seconds = math.ceil((self.end - self.start).total_seconds())
        if seconds <= DAY:
            return f"{max(seconds, 30)} S"
        return f"{math.ceil(seconds / DAY)} D"


def plan_chunks(start: dt.datetime, end: dt.datetime, spec: BarSpecification) -> list[Chunk]:
    """Cut ``[start, end)`` into request-sized chunks, oldest first (UTC datetimes)."""
    if end <= start:
        raise HistoryError(
            f"start ({start:%Y-%m-%d %H:%M}) must be before end ({end:%Y-%m-%d %H:%M})"
        )
    span = dt.timedelta(seconds=max_span_seconds(spec))
    chunks: list[Chunk] = []
    t = start
    while t < end:
        chunk_end = min(t + span, end)
        chunks.append(Chunk(t, chunk_end))
        t = chunk_end
    return chunks


@dataclass(frozen=True)
class PacingRules:
    """IB's historical data pacing (TWS API docs, "Historical Data Limitations")."""

    identical_window: float = 15.0
    per_contract: int = 5
    per_contract_window: float = 2.0
    rolling: int = 60
    rolling_window: float = 600.0
    margin: float = 0.1


class HistoricalPacer:
    """Waits before each request as long as IB's pacing rules require."""

    def __init__(
        self,
        rules: PacingRules | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.rules = rules or PacingRules()
        self.clock = clock
        self.sleep = sleep
        self._sent: deque[tuple[float, Any, Any]] = deque()
        self.waited = 0.0

    def delay(self, key: Any, contract: Any) -> float:
        """Seconds to wait before sending ``key`` (a request's identity) for ``contract``."""
        r = self.rules
        now = self.clock()
        while self._sent and now - self._sent[0][0] >= r.rolling_window:
            self._sent.popleft()
        wait = 0.0
        for t, k, _ in self._sent:
            if k == key:
                wait = max(wait, t + r.identical_window - now)
        same = [t for t, _, c in self._sent if c == contract and now - t < r.per_contract_window]
        if len(same) >= r.per_contract:
            wait = max(wait, same[-r.per_contract] + r.per_contract_window - now)
        if len(self._sent) >= r.rolling:
            wait = max(wait, self._sent[-r.rolling][0] + r.rolling_window - now)
        return wait + r.margin if wait > 0 else 0.0

    async def acquire(self, key: Any, contract: Any) -> float:
        """Wait as needed, then record the request; returns the seconds waited."""
        waited = 0.0
        while (delay := self.delay(key, contract)) > 0:
            await self.sleep(delay)
            waited += delay
        self._sent.append((self.clock(), key, contract))
        self.waited += waited
        return waited


@dataclass
class ChunkReport:
    """What one chunk brought (for progress displays)."""

    index: int
    total: int
    chunk: Chunk
    bars: int
    waited: float
    retries: int
    no_data: bool


@dataclass
class DownloadResult:
    """The instrument and bars of a download, and how it went."""

    instrument: Any
    bars: list[Bar]
    chunks: list[ChunkReport] = field(default_factory=list)
    pacing_violations: int = 0

    @property
    def waited(self) -> float:
        return sum(c.waited for c in self.chunks)


def ib_contract(
    symbol: str, exchange: str, sec_type: str = "STK", currency: str = "USD", **extra: Any
):
    """The ``IBContract`` for a symbol: stocks route SMART with ``exchange`` as the primary."""
    from nautilus_trader.adapters.interactive_brokers.common import IBContract

    sec_type = sec_type.upper()
    exchange = exchange.upper()
    if sec_type == "STK":
        primary = "" if exchange == "SMART" else exchange
        return IBContract(
            secType="STK",
            symbol=symbol.upper(),
            exchange="SMART",
            primaryExchange=primary,
            currency=currency.upper(),
            **extra,
        )
    return IBContract(
        secType=sec_type, symbol=symbol.upper(), exchange=exchange, currency=currency, **extra
    )


def check_reachable(host: str, port: int, timeout: float = 3.0) -> None:
    """Fail fast with a clear message when nothing listens at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as e:
        raise HistoryError(
            f"no IB Gateway/TWS at {host}:{port} ({e.strerror or e}); start it, enable the "
            "API (Configure > Settings > API) and check the port"
        ) from None


def restamp_at_close(bars: Iterable[Bar]) -> list[Bar]:
    """nautilus's IB bars carry ts_event = bar open; the catalog stamps bars at their close."""
    return [
        Bar(b.bar_type, b.open, b.high, b.low, b.close, b.volume, b.ts_init, b.ts_init)
        for b in bars
    ]


_LOG_GUARD: list[Any] = []


def _install_logging_once(level: str) -> None:
    """nautilus logging can start only once per process and the historic client always starts
    it: make its call idempotent (and silent at level OFF: errors are reported by us)."""
    import nautilus_trader.adapters.interactive_brokers.historical.client as historic
    from nautilus_trader.common.component import init_logging

    def init_once(**kwargs: Any) -> Any:
        if not _LOG_GUARD:
            try:
                _LOG_GUARD.append(init_logging(**kwargs, bypass=level.upper() == "OFF"))
            except RuntimeError:  # already running (e.g. inside a TradingNode process)
                _LOG_GUARD.append(None)
        return _LOG_GUARD[0]

    historic.init_logging = init_once


def _ns(t: dt.datetime) -> int:
    return int(t.timestamp() * 1_000_000_000)


class IbkrHistoryDownloader:
    """One API session that downloads bars chunk by chunk (see the module docstring)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 4002,
        client_id: int = 97,
        *,
        pacing: PacingRules | None = None,
        request_timeout: int = 120,
        connect_timeout: float = 20.0,
        violation_backoff: float = 20.0,
        max_retries: int = 5,
        log_level: str = "OFF",
    ) -> None:
        self.host = host
        self.port = port
        self.client_id = client_id
        self.pacer = HistoricalPacer(pacing)
        self.request_timeout = request_timeout
        self.connect_timeout = connect_timeout
        self.violation_backoff = violation_backoff
        self.max_retries = max_retries
        self.log_level = log_level
        self._client = None
        self._monitor = None

    async def __aenter__(self) -> IbkrHistoryDownloader:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        from nautilus_trader.adapters.interactive_brokers.historical.client import (
            HistoricInteractiveBrokersClient,
        )

        from seraphim.adapters.ibkr.connectivity import ConnectivityMonitor

        check_reachable(self.host, self.port)
        _install_logging_once(self.log_level)
        client = HistoricInteractiveBrokersClient(
            host=self.host, port=self.port, client_id=self.client_id, log_level=self.log_level
        )
        asyncio.get_running_loop().set_debug(False)  # the client turns asyncio debug on
        self._client = client
        ib = client._client  # HistoricInteractiveBrokersClient has no public accessor for it
        self._monitor = ConnectivityMonitor.install(ib, resubscribe=False)
        await ib.wait_until_ready(timeout=int(self.connect_timeout))
        if not ib.is_ready:
            await self.close()
            raise HistoryError(
                f"connected to {self.host}:{self.port} but the API session did not start within "
                f"{self.connect_timeout:.0f} s (client id {self.client_id} already in use?)"
            )
        await client.connect()

    async def close(self) -> None:
        if self._client is None:
            return
        ib = self._client._client  # no public accessor (see connect)
        ib.stop()
        for _ in range(40):
            if not ib._eclient.isConnected():  # stop() returns before the socket closes
                break
            await asyncio.sleep(0.05)
        self._client = None

    async def instrument(self, contract) -> Any:
        """The nautilus instrument for one contract (IB must know it, unambiguously)."""
        found = await self._client.request_instruments(contracts=[contract])
        if len(found) != 1:
            where = contract.primaryExchange or contract.exchange
            what = f"{contract.symbol} {contract.secType} {where}"
            if not found:
                raise HistoryError(f"IB does not know {what} (error 200: no security definition)")
            raise HistoryError(f"{what} is ambiguous at IB: {', '.join(str(i.id) for i in found)}")
        instrument = found[0]
        # The IB client parses bars against its own cache's instrument (no public setter).
        cache = self._client._client._cache
        if cache.instrument(instrument.id) is None:
            cache.add_instrument(instrument)
        return instrument

    async def download(
        self,
        contract,
        bar: str | BarSpecification,
        start: dt.datetime,
        end: dt.datetime,
        *,
        use_rth: bool = True,
        on_chunk: Callable[[ChunkReport], None] | None = None,
    ) -> DownloadResult:
        """Bars of one contract in ``[start, end]``, chunked and paced."""
        spec = bar if isinstance(bar, BarSpecification) else parse_bar_spec(bar)
        start, end = _utc(start), _utc(end)
        now = dt.datetime.now(dt.UTC)
        end = min(end, now)
        instrument = await self.instrument(contract)
        chunks = plan_chunks(start, end, spec)
        result = DownloadResult(instrument, [])
        by_ts: dict[int, Bar] = {}
        for index, chunk in enumerate(chunks, 1):
            bars, report = await self._chunk(contract, spec, chunk, use_rth, index, len(chunks))
            result.pacing_violations += report.retries
            for b in bars:
                by_ts[b.ts_init] = b
            result.chunks.append(report)
            if on_chunk is not None:
                on_chunk(report)
        lo, hi, done = _ns(start), _ns(end), _ns(dt.datetime.now(dt.UTC))
        kept = [b for ts, b in sorted(by_ts.items()) if lo < ts <= hi and ts <= done]
        result.bars = restamp_at_close(kept)
        return result

    async def _chunk(self, contract, spec, chunk: Chunk, use_rth: bool, index: int, total: int):
        key = (contract, str(spec), chunk.end, chunk.duration, use_rth)
        waited = 0.0
        for attempt in range(self.max_retries + 1):
            waited += await self.pacer.acquire(key, contract)
            seen = len(self._monitor.request_errors)
            bars = await self._client.request_bars(
                bar_specifications=[str(spec)],
                end_date_time=chunk.end.replace(tzinfo=None),
                tz_name="UTC",
                duration=chunk.duration,
                contracts=[contract],
                use_rth=use_rth,
                timeout=self.request_timeout,
            )
            errors = self._monitor.request_errors[seen:]
            if any(e.is_pacing_violation for e in errors):
                if attempt == self.max_retries:
                    break
                await asyncio.sleep(self.violation_backoff)
                waited += self.violation_backoff
                continue
            hard = [e for e in errors if not e.is_no_data]
            if hard and not bars:
                e = hard[-1]
                raise HistoryError(
                    f"IB refused the request for {chunk.start:%Y-%m-%d %H:%M}.."
                    f"{chunk.end:%Y-%m-%d %H:%M}: error {e.code}: {e.message}"
                )
            no_data = not bars
            return bars, ChunkReport(index, total, chunk, len(bars), waited, attempt, no_data)
        raise HistoryError(
            f"pacing violations persist after {self.max_retries} retries "
            f"({self.violation_backoff:.0f} s apart); try again in 10 minutes"
        )


def _utc(t: dt.datetime) -> dt.datetime:
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


async def download_bars(
    host: str,
    port: int,
    client_id: int,
    contract,
    bar: str,
    start: dt.datetime,
    end: dt.datetime,
    *,
    use_rth: bool = True,
    on_chunk: Callable[[ChunkReport], None] | None = None,
    **options: Any,
) -> DownloadResult:
    """Connect, download one contract's bars, disconnect."""
    async with IbkrHistoryDownloader(host, port, client_id, **options) as downloader:
        return await downloader.download(
            contract, bar, start, end, use_rth=use_rth, on_chunk=on_chunk
        )


def ingest_ibkr_history(
    catalog: SeraphimCatalog,
    host: str,
    port: int,
    client_id: int,
    contract,
    bar: str,
    start: dt.datetime,
    end: dt.datetime,
    *,
    use_rth: bool = True,
    synthetic: bool = False,
    on_chunk: Callable[[ChunkReport], None] | None = None,
    **options: Any,
) -> tuple[IngestResult, DownloadResult]:
    """Download bars from IB and merge them into the catalog (atomic, idempotent)."""
    result = asyncio.run(
        download_bars(
            host,
            port,
            client_id,
            contract,
            bar,
            start,
            end,
            use_rth=use_rth,
            on_chunk=on_chunk,
            **options,
        )
    )
    if not result.bars:
        raise HistoryError(
            f"IB returned no {bar} bars for {result.instrument.id} between "
            f"{_utc(start):%Y-%m-%d %H:%M} and {_utc(end):%Y-%m-%d %H:%M} UTC"
        )
    spec = result.bars[0].bar_type.spec
    provenance = Provenance(
        SOURCE,
        synthetic=synthetic,
        details={
            "gateway": f"{host}:{port}",
            "bar": str(spec),
            "use_rth": use_rth,
        },
    )
    return catalog.ingest(result.instrument, result.bars, provenance), result
