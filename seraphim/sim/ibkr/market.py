"""Prices: a seeded random walk that is a pure function of (seed, conId, time).

Daily log-price anchors follow a random walk pinned to the configured price on the
gateway's start date (so the option chain sits around the money); each day is filled with a
Brownian bridge at one-minute resolution and each minute with one at one-second resolution,
every piece drawn from its own seeded generator. So live quotes, delayed quotes and
historical bars of any size agree with each other, and a seed (with a fixed start date)
gives the same market on every run.
Options are priced with Black-Scholes off their underlying. A catalog-backed source
(``catalog_source.py``) can replace the walk for contracts it has bars for.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from seraphim.sim.ibkr.contracts import ContractSpec
from seraphim.sim.ibkr.contracts import ContractUniverse

DAY = 86_400
REFERENCE_DAY = dt.date(2025, 1, 2).toordinal() - dt.date(1970, 1, 1).toordinal()
FIRST_DAY = dt.date(2010, 1, 1).toordinal() - dt.date(1970, 1, 1).toordinal()
LAST_DAY = dt.date(2040, 1, 1).toordinal() - dt.date(1970, 1, 1).toordinal()
RISK_FREE = 0.04


def unit_hash(*parts: object) -> float:
    """A deterministic uniform number in [0, 1) from the given parts."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def round_to_tick(price: float, tick: float) -> float:
    """Round a price to the contract's tick, without float noise."""
    decimals = max(0, -math.floor(math.log10(tick))) if tick < 1 else 0
    return round(round(price / tick) * tick, decimals + 2)


@dataclass(frozen=True)
class Quote:
    """Top of book and last trade at one instant."""

    bid: float
    ask: float
    last: float
    bid_size: float
    ask_size: float
    last_size: float


class MidSource(Protocol):
    """Anything that can give a mid price for a contract at a time."""

    def covers(self, spec: ContractSpec) -> bool:
        """Whether this source has prices for the contract."""
        ...

    def mid(self, spec: ContractSpec, t: float) -> float:
        """Mid price at epoch seconds ``t``."""
        ...


class RandomWalk:
    """The seeded walk for all non-option contracts."""

    def __init__(
        self, seed: int, reference_day: int = REFERENCE_DAY, cache_days: int = 512
    ) -> None:
        self.seed = seed
        self.reference_day = reference_day
        self._anchors: dict[int, np.ndarray] = {}
        self._minutes: OrderedDict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = (
            OrderedDict()
        )
        self._seconds: OrderedDict[tuple[int, int, int], np.ndarray] = OrderedDict()
        self._cache_days = cache_days

    def covers(self, spec: ContractSpec) -> bool:
        """The walk covers everything."""
        return True

    def _daily_sigma(self, spec: ContractSpec) -> float:
        return spec.volatility / math.sqrt(365.0)

    def _day_anchors(self, spec: ContractSpec) -> np.ndarray:
        anchors = self._anchors.get(spec.con_id)
        if anchors is None:
            rng = np.random.default_rng([self.seed, spec.con_id, 0])
            steps = rng.normal(0.0, self._daily_sigma(spec), LAST_DAY - FIRST_DAY + 1)
            walk = np.concatenate([[0.0], np.cumsum(steps)])
            anchors = walk - walk[self.reference_day - FIRST_DAY] + math.log(spec.price)
            self._anchors[spec.con_id] = anchors
        return anchors

    @staticmethod
    def _bridge(
        rng: np.random.Generator, start: float, end: float, n: int, sigma: float
    ) -> np.ndarray:
        steps = rng.normal(0.0, sigma, n)
        path = np.concatenate([[0.0], np.cumsum(steps)])
        frac = np.linspace(0.0, 1.0, n + 1)
        return start + path - frac * path[-1] + frac * (end - start)

    def minute_path(self, spec: ContractSpec, day: int) -> np.ndarray:
        """1441 log prices for the minutes of one UTC day (both day boundaries included)."""
        return self._minute_data(spec, day)[0]

    def _minute_data(
        self, spec: ContractSpec, day: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(path, high, low): minute log prices and each minute's log high/low.

        Every bar size takes its high/low from these per-minute extremes, and the second-level
        path inside a minute is confined to them, so 1-minute, 1-hour and daily bars agree.
        """
        key = (spec.con_id, day)
        data = self._minutes.get(key)
        if data is not None:
            self._minutes.move_to_end(key)
            return data
        anchors = self._day_anchors(spec)
        i = min(max(day - FIRST_DAY, 0), len(anchors) - 2)
        rng = np.random.default_rng([self.seed, spec.con_id, 1, day])
        sigma = self._daily_sigma(spec) / math.sqrt(1440.0)
        path = self._bridge(rng, anchors[i], anchors[i + 1], 1440, sigma)
        excursion = sigma * (0.5 + 1.5 * np.abs(rng.normal(0.0, 1.0, (2, 1440))))
        ends_high = np.maximum(path[:-1], path[1:])
        ends_low = np.minimum(path[:-1], path[1:])
        data = (path, ends_high + excursion[0], ends_low - excursion[1])
        self._minutes[key] = data
        if len(self._minutes) > self._cache_days * 4:
            self._minutes.popitem(last=False)
        return data

    def second_path(self, spec: ContractSpec, day: int, minute: int) -> np.ndarray:
        """61 log prices for the seconds of one minute, touching that minute's high and low."""
        key = (spec.con_id, day, minute)
        path = self._seconds.get(key)
        if path is not None:
            return path
        minutes, highs, lows = self._minute_data(spec, day)
        rng = np.random.default_rng([self.seed, spec.con_id, 2, day, minute])
        # Four times the diffusive rate inside the minute: ticks that visibly move, while the
        # bridge keeps every minute's endpoints (and so all coarser bars) unchanged.
        sigma = 4.0 * self._daily_sigma(spec) / math.sqrt(86_400.0)
        path = self._bridge(rng, minutes[minute], minutes[minute + 1], 60, sigma)
        hi, lo = highs[minute], lows[minute]
        path = np.clip(path, lo, hi)
        inner = path[1:60]
        top, bottom = int(np.argmax(inner)) + 1, int(np.argmin(inner)) + 1
        if top == bottom:
            bottom = 1 if top != 1 else 2
        path[top], path[bottom] = hi, lo
        self._seconds[key] = path
        if len(self._seconds) > 4096:
            self._seconds.popitem(last=False)
        return path

    def mid(self, spec: ContractSpec, t: float) -> float:
        """Mid price at epoch seconds ``t`` (linear between whole seconds)."""
        day, rem = divmod(t, DAY)
        minute, sec = divmod(rem, 60)
        seconds = self.second_path(spec, int(day), int(minute))
        i = int(sec)
        frac = sec - i
        log_p = seconds[i] + (seconds[min(i + 1, 60)] - seconds[i]) * frac
        return float(math.exp(log_p))

    def ohlc(
        self, spec: ContractSpec, start: float, end: float
    ) -> tuple[float, float, float, float]:
        """Open, high, low, close over [start, end): whole minutes use the minute extremes,
        partial minutes the second-level path."""
        a, b = int(start), max(int(start) + 1, int(end))
        highs: list[float] = []
        lows: list[float] = []
        t = a
        while t < b:
            day, rem = divmod(t, DAY)
            minute = rem // 60
            minute_start = day * DAY + minute * 60
            if t == minute_start and t + 60 <= b:
                # A run of whole minutes within this day, vectorised.
                last = min(b, (day + 1) * DAY)
                n = (last - t) // 60
                _, hi, lo = self._minute_data(spec, day)
                highs.append(float(hi[minute : minute + n].max()))
                lows.append(float(lo[minute : minute + n].min()))
                t += n * 60
            else:
                stop = min(b, minute_start + 60)
                seconds = self.second_path(spec, day, minute)[
                    t - minute_start : stop - minute_start + 1
                ]
                highs.append(float(seconds.max()))
                lows.append(float(seconds.min()))
                t = stop
        return (
            self.mid(spec, a),
            float(math.exp(max(highs))),
            float(math.exp(min(lows))),
            self.mid(spec, b),
        )


def black_scholes(spot: float, strike: float, years: float, vol: float, right: str) -> float:
    """European option value (no dividends)."""
    if years <= 0 or vol <= 0:
        return max(0.0, spot - strike) if right == "C" else max(0.0, strike - spot)
    sq = vol * math.sqrt(years)
    d1 = (math.log(spot / strike) + (RISK_FREE + 0.5 * vol * vol) * years) / sq
    d2 = d1 - sq

    def n(x: float) -> float:
        return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))

    disc = math.exp(-RISK_FREE * years)
    if right == "C":
        return spot * n(d1) - strike * disc * n(d2)
    return strike * disc * n(-d2) - spot * n(-d1)


def option_expiry_epoch(spec: ContractSpec) -> float:
    """Expiry instant: 16:00 New York on the last trade date (approximated as 21:00 UTC)."""
    d = dt.datetime.strptime(spec.last_trade_date, "%Y%m%d").replace(hour=21, tzinfo=dt.UTC)
    return d.timestamp()


class Market:
    """Quotes for every contract in the universe, from the catalog or the walk."""

    def __init__(
        self,
        universe: ContractUniverse,
        seed: int,
        catalog: MidSource | None = None,
        as_of: dt.date | None = None,
    ) -> None:
        self.universe = universe
        self.seed = seed
        reference = (
            REFERENCE_DAY if as_of is None else as_of.toordinal() - dt.date(1970, 1, 1).toordinal()
        )
        self.walk = RandomWalk(seed, reference_day=reference)
        self.catalog = catalog

    def source_for(self, spec: ContractSpec) -> MidSource:
        """Where this contract's prices come from."""
        if self.catalog is not None and self.catalog.covers(spec):
            return self.catalog
        return self.walk

    def mid(self, spec: ContractSpec, t: float) -> float:
        """Mid price (options priced off the underlying)."""
        if spec.is_option:
            under = self.universe.underlying_of(spec)
            spot = self.mid(under, t) if under else spec.price
            years = max(0.0, (option_expiry_epoch(spec) - t) / (365.0 * DAY))
            return max(
                spec.min_tick, black_scholes(spot, spec.strike, years, spec.volatility, spec.right)
            )
        return self.source_for(spec).mid(spec, t)

    def half_spread(self, spec: ContractSpec, mid: float) -> float:
        """Half the quoted spread, at least one tick."""
        if spec.is_option:
            return max(spec.min_tick, round_to_tick(mid * 0.01, spec.min_tick))
        return max(spec.min_tick, round_to_tick(mid * 0.0001, spec.min_tick))

    def quote(self, spec: ContractSpec, t: float) -> Quote:
        """Bid/ask/last and sizes at ``t``; sizes vary deterministically per second."""
        mid = self.mid(spec, t)
        half = self.half_spread(spec, mid)
        bid = round_to_tick(mid - half, spec.min_tick)
        ask = round_to_tick(max(bid + spec.min_tick, mid + half), spec.min_tick)
        bid = max(spec.min_tick, bid)
        second = int(t)
        u1 = unit_hash(self.seed, spec.con_id, second, "b")
        u2 = unit_hash(self.seed, spec.con_id, second, "a")
        u3 = unit_hash(self.seed, spec.con_id, second, "l")
        if spec.sec_type == "CRYPTO":
            sizes = [round(0.05 + 2.0 * u, 4) for u in (u1, u2, u3)]
        elif spec.is_option:
            sizes = [float(1 + int(50 * u)) for u in (u1, u2, u3)]
        else:
            sizes = [float(100 * (1 + int(10 * u))) for u in (u1, u2, u3)]
        last = bid if u3 < 0.5 else ask
        return Quote(bid, ask, last, sizes[0], sizes[1], sizes[2])
