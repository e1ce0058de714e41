"""Prices and historical bars from a nautilus ParquetDataCatalog.

A contract is covered when the catalog holds bars for its nautilus instrument id in IB's
simplified symbology (``AAPL.NASDAQ``, ``SPY.ARCA``, ``BTC/USD.PAXOS``). Historical bars are
the catalog's own bars aggregated into the requested windows at their real timestamps; live
quotes replay the catalog on a loop (time is mapped into the catalog's span), moving linearly
from each bar's open to its close.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seraphim.sim.ibkr.contracts import ContractSpec
from seraphim.sim.ibkr.contracts import ContractUniverse
from seraphim.sim.ibkr.history import BarRow

NS = 1_000_000_000


def instrument_id_candidates(spec: ContractSpec) -> list[str]:
    """Nautilus instrument ids under which the catalog may hold this contract's bars."""
    if spec.sec_type == "CRYPTO":
        return [f"{spec.symbol}/{spec.currency}.{spec.primary_exchange}"]
    if spec.is_option:
        return []
    venues = [v for v in (spec.primary_exchange, spec.exchange) if v]
    return [f"{spec.symbol}.{v}" for v in dict.fromkeys(venues)]


@dataclass
class BarSeries:
    """One contract's finest bars as numpy arrays (times in epoch seconds, bar open times)."""

    opens_at: np.ndarray
    step: float
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    @property
    def first(self) -> float:
        """Open time of the first bar."""
        return float(self.opens_at[0])

    @property
    def span(self) -> float:
        """Seconds from the first bar's open to the last bar's close."""
        return float(self.opens_at[-1] + self.step - self.opens_at[0])


class CatalogPrices:
    """A ``MidSource`` backed by catalog bars."""

    def __init__(self, catalog: object, universe: ContractUniverse) -> None:
        self._catalog = catalog
        self._universe = universe
        self._series: dict[int, BarSeries | None] = {}

    @classmethod
    def open(cls, path: Path, universe: ContractUniverse) -> CatalogPrices:
        """Open a catalog directory."""
        from nautilus_trader.persistence.catalog import ParquetDataCatalog

        if not path.exists():
            raise FileNotFoundError(f"catalog not found: {path}")
        return cls(ParquetDataCatalog(str(path)), universe)

    def series(self, spec: ContractSpec) -> BarSeries | None:
        """The contract's bars, loaded on first use (None when the catalog has none)."""
        if spec.con_id not in self._series:
            self._series[spec.con_id] = self._load(spec)
        return self._series[spec.con_id]

    def _load(self, spec: ContractSpec) -> BarSeries | None:
        for instrument_id in instrument_id_candidates(spec):
            try:
                bars = self._catalog.bars(instrument_ids=[instrument_id])
            except Exception:
                bars = []
            if not bars:
                continue
            by_type: dict[str, list] = {}
            for bar in bars:
                by_type.setdefault(str(bar.bar_type), []).append(bar)
            finest = min(
                by_type.values(), key=lambda bs: bs[0].bar_type.spec.timedelta.total_seconds()
            )
            finest.sort(key=lambda b: b.ts_event)
            step = finest[0].bar_type.spec.timedelta.total_seconds()
            closes_at = np.array([b.ts_event for b in finest], dtype=np.float64) / NS
            return BarSeries(
                opens_at=closes_at - step,
                step=step,
                open=np.array([b.open.as_double() for b in finest]),
                high=np.array([b.high.as_double() for b in finest]),
                low=np.array([b.low.as_double() for b in finest]),
                close=np.array([b.close.as_double() for b in finest]),
                volume=np.array([b.volume.as_double() for b in finest]),
            )
        return None

    def covers(self, spec: ContractSpec) -> bool:
        """Whether the catalog has bars for this contract."""
        return self.series(spec) is not None

    def first_time(self, spec: ContractSpec) -> float | None:
        """Open time of the contract's first bar."""
        s = self.series(spec)
        return s.first if s else None

    def mid(self, spec: ContractSpec, t: float) -> float:
        """Price at ``t``, replaying the catalog on a loop for times outside its span."""
        s = self.series(spec)
        if s is None:
            raise KeyError(spec.con_id)
        if not s.first <= t < s.first + s.span:
            t = s.first + (t - s.first) % s.span
        i = int(np.searchsorted(s.opens_at, t, side="right")) - 1
        i = min(max(i, 0), len(s.opens_at) - 1)
        frac = min(max((t - s.opens_at[i]) / s.step, 0.0), 1.0)
        return float(s.open[i] + (s.close[i] - s.open[i]) * frac)

    def bars(self, spec: ContractSpec, windows: list[tuple[float, float]]) -> list[BarRow]:
        """The catalog's bars aggregated into each window; empty windows are skipped."""
        s = self.series(spec)
        if s is None:
            return []
        out: list[BarRow] = []
        for lo, hi in windows:
            a = int(np.searchsorted(s.opens_at, lo, side="left"))
            b = int(np.searchsorted(s.opens_at, hi, side="left"))
            if a >= b:
                continue
            h = float(s.high[a:b].max())
            low = float(s.low[a:b].min())
            c = float(s.close[b - 1])
            volume = float(s.volume[a:b].sum())
            out.append(
                BarRow(lo, float(s.open[a]), h, low, c, volume, round((h + low + c) / 3, 6), b - a)
            )
        return out
