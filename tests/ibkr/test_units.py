"""Pure pieces: history chunking and pacing, bar stamping."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from seraphim.adapters.ibkr.history import HistoricalPacer
from seraphim.adapters.ibkr.history import HistoryError
from seraphim.adapters.ibkr.history import PacingRules
from seraphim.adapters.ibkr.history import max_span_seconds
from seraphim.adapters.ibkr.history import parse_bar_spec
from seraphim.adapters.ibkr.history import plan_chunks
from seraphim.adapters.ibkr.history import restamp_at_close

UTC = dt.UTC


def test_bar_specs_ib_can_serve() -> None:
    assert str(parse_bar_spec("1-HOUR")) == "1-HOUR-LAST"
    assert str(parse_bar_spec("5-minute-mid")) == "5-MINUTE-MID"
    for bad in ("7-MINUTE", "1-SECOND", "2-DAY", "HOUR"):
        with pytest.raises(HistoryError):
            parse_bar_spec(bad)


def test_chunks_cover_the_range_without_gaps_within_ib_spans() -> None:
    start = dt.datetime(2025, 1, 1, tzinfo=UTC)
    end = dt.datetime(2025, 3, 17, 12, tzinfo=UTC)
    for bar in ("1-MINUTE", "5-MINUTE", "1-HOUR", "1-DAY", "30-SECOND"):
        spec = parse_bar_spec(bar)
        chunks = plan_chunks(start, end, spec)
        assert chunks[0].start == start and chunks[-1].end == end
        assert all(a.end == b.start for a, b in itertools.pairwise(chunks))
        span = max_span_seconds(spec)
        assert all((c.end - c.start).total_seconds() <= span for c in chunks)
    one_minute = plan_chunks(start, end, parse_bar_spec("1-MINUTE"))
    assert len(one_minute) == 76  # 75.5 days, one day per request
    assert one_minute[0].duration == "86400 S" and one_minute[-1].duration == "43200 S"
    hourly = plan_chunks(start, end, parse_bar_spec("1-HOUR"))
    assert [c.duration for c in hourly] == ["30 D", "30 D", "16 D"]
    with pytest.raises(HistoryError):
        plan_chunks(end, start, parse_bar_spec("1-HOUR"))


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _pacer(rules: PacingRules | None = None) -> tuple[HistoricalPacer, FakeTime]:
    t = FakeTime()
    return HistoricalPacer(rules or PacingRules(margin=0.0), clock=t.clock, sleep=t.sleep), t


def _acquire(pacer: HistoricalPacer, key, contract) -> float:
    import asyncio

    return asyncio.run(pacer.acquire(key, contract))


def test_pacer_spaces_identical_requests_by_15_seconds() -> None:
    pacer, t = _pacer()
    assert _acquire(pacer, "k", "AAPL") == 0
    t.now += 4
    assert _acquire(pacer, "k", "AAPL") == pytest.approx(11)
    assert _acquire(pacer, "other", "AAPL") == 0


def test_pacer_allows_five_requests_per_contract_in_two_seconds() -> None:
    pacer, t = _pacer()
    for i in range(5):
        assert _acquire(pacer, i, "AAPL") == 0
        t.now += 0.1
    assert _acquire(pacer, 5, "MSFT") == 0  # another contract is not held back
    assert _acquire(pacer, 6, "AAPL") == pytest.approx(1.5)  # until the first is 2 s old


def test_pacer_allows_sixty_requests_in_ten_minutes() -> None:
    pacer, t = _pacer()
    for i in range(60):
        _acquire(pacer, i, f"C{i}")
        t.now += 1
    assert _acquire(pacer, "late", "C-new") == pytest.approx(540)
    assert pacer.waited == pytest.approx(540)


def test_bars_are_restamped_at_their_close() -> None:
    bar_type = BarType.from_str("AAPL.NASDAQ-1-HOUR-LAST-EXTERNAL")
    opened, closed = 1_000_000_000_000, 1_003_600_000_000
    bar = Bar(
        bar_type, Price.from_str("1.00"), Price.from_str("2.00"), Price.from_str("0.50"),
        Price.from_str("1.50"), Quantity.from_int(10), opened, closed,
    )  # fmt: skip
    (stamped,) = restamp_at_close([bar])
    assert stamped.ts_event == stamped.ts_init == closed
    assert (stamped.open, stamped.close, stamped.volume) == (bar.open, bar.close, bar.volume)
