"""Historical bars: request parsing (bar size, duration, end time), sessions and formatting.

Bars are cut from a price source on the sessions IB uses for US stocks (regular hours
09:30-16:00 New York, extended 04:00-20:00, weekdays) or around the clock for crypto, with
the bar date being the bar's start: ``YYYYMMDD`` for daily and longer bars, otherwise
``YYYYMMDD HH:MM:SS US/Eastern`` for formatDate 1 and epoch seconds for formatDate 2.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from seraphim.sim.ibkr.contracts import NEW_YORK
from seraphim.sim.ibkr.contracts import ContractSpec
from seraphim.sim.ibkr.market import Market
from seraphim.sim.ibkr.market import RandomWalk
from seraphim.sim.ibkr.market import round_to_tick
from seraphim.sim.ibkr.market import unit_hash

TZ_LABEL = "US/Eastern"
MAX_BARS = 100_000
HMDS = "Historical Market Data Service error message:"
WHAT_TO_SHOW = {
    "TRADES",
    "MIDPOINT",
    "BID",
    "ASK",
    "BID_ASK",
    "ADJUSTED_LAST",
    "HISTORICAL_VOLATILITY",
    "OPTION_IMPLIED_VOLATILITY",
    "AGGTRADES",
}

_UNIT_SECONDS = {
    "sec": 1,
    "secs": 1,
    "s": 1,
    "min": 60,
    "mins": 60,
    "hour": 3600,
    "hours": 3600,
    "h": 3600,
    "day": 86_400,
    "days": 86_400,
    "d": 86_400,
    "week": 7 * 86_400,
    "weeks": 7 * 86_400,
    "w": 7 * 86_400,
    "month": 30 * 86_400,
    "months": 30 * 86_400,
}
_DURATION_SECONDS = {"S": 1, "D": 86_400, "W": 7 * 86_400, "M": 31 * 86_400, "Y": 366 * 86_400}


class HistoryRequestError(ValueError):
    """The request cannot be served; ``code`` is the TWS error code to send."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class BarSize:
    """A parsed ``barSizeSetting``."""

    seconds: int
    text: str

    @property
    def is_daily_or_longer(self) -> bool:
        """Day, week and month bars carry a plain ``YYYYMMDD`` date."""
        return self.seconds >= 86_400


def parse_bar_size(text: str) -> BarSize:
    """Parse ``'5 secs'``, ``'1 min'``, ``'1 hour'``, ``'1 day'``, ``'1W'``, ``'1M'``."""
    m = re.fullmatch(r"\s*(\d+)\s*([A-Za-z]+)\s*", text)
    if not m:
        raise HistoryRequestError(162, f"{HMDS}Invalid bar size {text!r}")
    n, unit = int(m.group(1)), m.group(2)
    if unit == "M":
        seconds = _UNIT_SECONDS["month"]
    elif unit == "W":
        seconds = _UNIT_SECONDS["week"]
    else:
        seconds = _UNIT_SECONDS.get(unit.lower())
    if seconds is None or n <= 0:
        raise HistoryRequestError(162, f"{HMDS}Invalid bar size {text!r}")
    return BarSize(n * seconds, text)


def parse_duration(text: str) -> int:
    """Parse ``'3600 S'``, ``'2 D'``, ``'1 W'``, ``'6 M'``, ``'1 Y'`` into seconds."""
    m = re.fullmatch(r"\s*(\d+)\s*([SDWMY])\s*", text.upper())
    if not m:
        raise HistoryRequestError(162, f"{HMDS}Invalid duration {text!r}")
    return int(m.group(1)) * _DURATION_SECONDS[m.group(2)]


def parse_end_time(text: str, now: float) -> float:
    """Parse ``endDateTime``: empty (now), ``yyyymmdd hh:mm:ss [tz]`` or ``yyyymmdd-hh:mm:ss``."""
    text = text.strip()
    if not text:
        return now
    try:
        if re.fullmatch(r"\d{8}-\d{2}:\d{2}:\d{2}", text):
            return dt.datetime.strptime(text, "%Y%m%d-%H:%M:%S").replace(tzinfo=dt.UTC).timestamp()
        parts = text.split(" ")
        if len(parts) == 1 and re.fullmatch(r"\d{8}", parts[0]):
            return dt.datetime.strptime(parts[0], "%Y%m%d").replace(tzinfo=NEW_YORK).timestamp()
        stamp = dt.datetime.strptime(" ".join(parts[:2]), "%Y%m%d %H:%M:%S")
        tz_name = parts[2] if len(parts) > 2 else ""
        tz = (
            dt.UTC
            if tz_name.upper() in ("UTC", "GMT", "UNIVERSAL")
            else ZoneInfo(tz_name or "America/New_York")
        )
        return stamp.replace(tzinfo=tz).timestamp()
    except (ValueError, KeyError) as exc:
        raise HistoryRequestError(162, f"{HMDS}Invalid end date/time {text!r}") from exc


@dataclass(frozen=True)
class BarRow:
    """One historical bar as sent on the wire."""

    start: float
    open: float
    high: float
    low: float
    close: float
    volume: float
    wap: float
    count: int


def sessions(
    spec: ContractSpec, start: float, end: float, use_rth: bool
) -> Iterator[tuple[float, float]]:
    """Whole trading sessions (epoch seconds) overlapping [start, end); crypto has one per day."""
    if spec.trades_24h:
        open_t, close_t, weekdays_only = dt.time(0), None, False
    elif use_rth or spec.is_option:
        open_t, close_t, weekdays_only = dt.time(9, 30), dt.time(16, 0), True
    else:
        open_t, close_t, weekdays_only = dt.time(4, 0), dt.time(20, 0), True
    day = dt.datetime.fromtimestamp(start, NEW_YORK).date() - dt.timedelta(days=1)
    last = dt.datetime.fromtimestamp(end, NEW_YORK).date()
    while day <= last:
        if not weekdays_only or day.weekday() < 5:
            lo = dt.datetime.combine(day, open_t, NEW_YORK).timestamp()
            if close_t is None:
                hi = dt.datetime.combine(
                    day + dt.timedelta(days=1), dt.time(0), NEW_YORK
                ).timestamp()
            else:
                hi = dt.datetime.combine(day, close_t, NEW_YORK).timestamp()
            if lo < end and hi > start:
                yield lo, hi
        day += dt.timedelta(days=1)


def bar_windows(
    spec: ContractSpec, start: float, end: float, size: BarSize, use_rth: bool
) -> list[tuple[float, float]]:
    """Bar [start, end) windows: whole bars aligned on New York clock time within sessions.

    Every bar that ends after ``start`` and begins before ``end`` is included; the last one is
    cut at ``end`` (the bar in progress, as TWS sends it).
    """
    windows: list[tuple[float, float]] = []
    if size.is_daily_or_longer:
        for lo, hi in sessions(spec, start, end, use_rth):
            windows.append((lo, min(hi, end)))
        if size.seconds > 86_400:
            windows = _group_long(windows, size.seconds)
        return windows
    for lo, hi in sessions(spec, start, end, use_rth):
        local_midnight = dt.datetime.combine(
            dt.datetime.fromtimestamp(lo, NEW_YORK).date(), dt.time(0), NEW_YORK
        ).timestamp()
        t = local_midnight + math.floor((lo - local_midnight) / size.seconds) * size.seconds
        while t < hi and t < end:
            a, b = max(t, lo), min(t + size.seconds, hi, end)
            if a < b and t + size.seconds > start:
                windows.append((a, b))
            t += size.seconds
        if len(windows) > MAX_BARS:
            raise HistoryRequestError(162, f"{HMDS}Time length exceed max.")
    return windows


def _group_long(days: list[tuple[float, float]], seconds: int) -> list[tuple[float, float]]:
    groups: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for lo, hi in days:
        d = dt.datetime.fromtimestamp(lo, NEW_YORK).date()
        key = (
            (d.isocalendar()[0], d.isocalendar()[1]) if seconds <= 7 * 86_400 else (d.year, d.month)
        )
        groups.setdefault(key, []).append((lo, hi))
    return [(v[0][0], v[-1][1]) for _, v in sorted(groups.items())]


class HistoryBuilder:
    """Cuts bars from the market's price sources."""

    def __init__(self, market: Market) -> None:
        self.market = market

    def bars(
        self,
        spec: ContractSpec,
        end: float,
        duration_seconds: int,
        size: BarSize,
        what_to_show: str,
        use_rth: bool,
        now: float,
    ) -> list[BarRow]:
        """Bars ending at ``end`` covering ``duration_seconds`` (never beyond ``now``)."""
        what = what_to_show.upper()
        if what not in WHAT_TO_SHOW:
            raise HistoryRequestError(162, f"{HMDS}Invalid whatToShow {what!r}")
        end = min(end, now)
        start = end - duration_seconds
        catalog = self.market.catalog
        if catalog is not None and catalog.covers(spec) and hasattr(catalog, "bars"):
            windows = bar_windows(spec, start, end, size, use_rth)
            rows = catalog.bars(spec, windows)
        else:
            windows = bar_windows(spec, start, end, size, use_rth)
            rows = [self._bar(spec, lo, hi) for lo, hi in windows]
        return [self._adjust(spec, r, what) for r in rows]

    def _bar(self, spec: ContractSpec, lo: float, hi: float) -> BarRow:
        source = self.market.source_for(spec)
        if isinstance(source, RandomWalk) and not spec.is_option:
            p_open, p_high, p_low, p_close = source.ohlc(spec, lo, hi)
        else:
            n = 12
            samples = [self.market.mid(spec, lo + (hi - lo) * i / n) for i in range(n + 1)]
            p_open, p_high, p_low, p_close = samples[0], max(samples), min(samples), samples[-1]
        tick = spec.min_tick
        o, c = round_to_tick(p_open, tick), round_to_tick(p_close, tick)
        h = max(round_to_tick(p_high, tick), o, c)
        low = min(round_to_tick(p_low, tick), o, c)
        minutes = max((hi - lo) / 60.0, 1 / 60)
        u = unit_hash(self.market.seed, spec.con_id, int(lo), int(hi))
        if spec.sec_type == "CRYPTO":
            volume = round(minutes * (0.5 + u) * 0.8, 4)
            count = max(1, int(minutes * (1 + 5 * u)))
        elif spec.is_option:
            volume = float(int(minutes * (0.5 + u) * 3))
            count = max(1, int(volume / 2))
        else:
            volume = float(int(minutes * (0.5 + u) * 5000))
            count = max(1, int(volume / 120))
        wap = round_to_tick((o + h + low + c) / 4.0, tick / 10 if tick >= 0.01 else tick)
        return BarRow(lo, o, h, low, c, volume, wap, count)

    def _adjust(self, spec: ContractSpec, row: BarRow, what: str) -> BarRow:
        if what in ("TRADES", "ADJUSTED_LAST", "AGGTRADES"):
            return row
        shift = 0.0
        if what == "BID":
            shift = -self.market.half_spread(spec, row.close)
        elif what == "ASK":
            shift = self.market.half_spread(spec, row.close)
        tick = spec.min_tick

        def adj(x: float) -> float:
            return round_to_tick(x + shift, tick)

        return BarRow(
            row.start, adj(row.open), adj(row.high), adj(row.low), adj(row.close), -1, -1, -1
        )


def format_bar_date(start: float, size: BarSize, format_date: int) -> str:
    """The bar's date field as TWS sends it."""
    local = dt.datetime.fromtimestamp(start, NEW_YORK)
    if size.is_daily_or_longer:
        return local.strftime("%Y%m%d")
    if format_date == 2:
        return str(int(start))
    return local.strftime("%Y%m%d %H:%M:%S") + f" {TZ_LABEL}"


def format_range_stamp(t: float) -> str:
    """Start/end stamps in the historicalData header."""
    return dt.datetime.fromtimestamp(t, NEW_YORK).strftime("%Y%m%d %H:%M:%S") + f" {TZ_LABEL}"


def format_head_timestamp(t: float, format_date: int) -> str:
    """reqHeadTimeStamp answer: ``yyyymmdd-hh:mm:ss`` (UTC) or epoch seconds."""
    if format_date == 2:
        return str(int(t))
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y%m%d-%H:%M:%S")


def current_bar_window(
    spec: ContractSpec, now: float, size: BarSize, use_rth: bool
) -> tuple[float, float] | None:
    """The bar window containing ``now`` (for keepUpToDate updates)."""
    windows = bar_windows(spec, now - max(size.seconds, 86_400), now + 1, size, use_rth)
    for lo, hi in reversed(windows):
        if lo <= now:
            return lo, min(hi, now + 1)
    return None


TimeFn = Callable[[], float]
