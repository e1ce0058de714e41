"""
The embedded sample market: synthetic, deterministic hourly bars for BTC/USD and ETH/USD.

Model (documented so results can be reasoned about):

* Log prices follow geometric Brownian motion whose hourly variance ``h`` follows GARCH(1,1),
  ``h[t+1] = omega + alpha * r[t]**2 + beta * h[t]``, with ``omega`` set so the long-run variance
  equals the asset's annual volatility. Large moves cluster, as in real crypto markets.
* Each hour is simulated in 12 sub-steps; open, high, low and close come from that path, so bars
  have realistic ranges. Each bar opens at the previous close.
* The assets share a common shock with correlation ``rho`` (BTC and ETH move together).
* Volume (in the base asset) is log-normal and rises with the size of the hour's move.

Everything is drawn from one ``numpy.random.Generator(PCG64(seed))``: the same seed gives the same
bars on every machine. The data is labelled synthetic in the catalog manifest and the instrument.
The caller brings the instruments (a venue's, carrying ``SampleMarket.instrument_info``), so the
catalog knows no venue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.serialization.arrow.serializer import ArrowSerializer

from seraphim.catalog.arrow_rows import SeriesRows
from seraphim.catalog.arrow_rows import bar_rows

SAMPLE_SOURCE = "seraphim sample: GBM with GARCH(1,1) volatility clustering"
HOURS_PER_YEAR = 365 * 24
SUBSTEPS = 12


@dataclass(frozen=True)
class AssetModel:
    pair: str
    start_price: float
    annual_volatility: float
    annual_drift: float
    hourly_volume: float  # typical volume in the base asset


@dataclass(frozen=True)
class SampleMarket:
    assets: tuple[AssetModel, ...] = (
        AssetModel("BTC/USD", 42_000.0, 0.55, 0.10, 40.0),
        AssetModel("ETH/USD", 2_300.0, 0.70, 0.05, 600.0),
    )
    rho: float = 0.8
    alpha: float = 0.08
    beta: float = 0.90
    start: str = "2024-01-01"
    days: int = 365
    seed: int = 7

    def describe(self) -> dict:
        return {
            "model": "gbm-garch11",
            "seed": self.seed,
            "start": self.start,
            "days": self.days,
            "rho": self.rho,
            "alpha": self.alpha,
            "beta": self.beta,
        }

    def instrument_info(self) -> dict:
        """What a sample instrument's ``info`` carries: synthetic, and how it was made."""
        return {"synthetic": True, "source": SAMPLE_SOURCE, **self.describe()}


def simulate_ohlcv(market: SampleMarket) -> dict[str, pd.DataFrame]:
    """Simulate hourly OHLCV frames (indexed by bar close time) for every asset."""
    rng = np.random.Generator(np.random.PCG64(market.seed))
    hours = market.days * 24
    n_assets = len(market.assets)
    long_run_var = np.array([a.annual_volatility**2 / HOURS_PER_YEAR for a in market.assets])
    drift = np.array([a.annual_drift / HOURS_PER_YEAR for a in market.assets])
    omega = long_run_var * (1.0 - market.alpha - market.beta)

    common = rng.standard_normal((hours, SUBSTEPS))
    own = rng.standard_normal((n_assets, hours, SUBSTEPS))
    shocks = market.rho * common + np.sqrt(1.0 - market.rho**2) * own
    volume_noise = rng.standard_normal((n_assets, hours))

    variance = long_run_var.copy()
    log_paths = np.empty((n_assets, hours, SUBSTEPS + 1))
    log_price = np.log([a.start_price for a in market.assets])
    hourly_sigma = np.empty((n_assets, hours))
    for t in range(hours):
        step_var = variance / SUBSTEPS
        increments = (drift / SUBSTEPS - 0.5 * step_var)[:, None] + np.sqrt(step_var)[
            :, None
        ] * shocks[:, t, :]
        path = log_price[:, None] + np.concatenate(
            [np.zeros((n_assets, 1)), np.cumsum(increments, axis=1)],
            axis=1,
        )
        log_paths[:, t, :] = path
        hourly_return = path[:, -1] - log_price
        hourly_sigma[:, t] = np.sqrt(variance)
        variance = omega + market.alpha * hourly_return**2 + market.beta * variance
        log_price = path[:, -1]

    close_times = pd.date_range(market.start, periods=hours, freq="h", tz="UTC") + pd.Timedelta(
        hours=1,
    )
    frames = {}
    for i, asset in enumerate(market.assets):
        prices = np.exp(log_paths[i])
        move = np.abs(np.log(prices[:, -1] / prices[:, 0])) / hourly_sigma[i]
        volume = asset.hourly_volume * np.exp(0.4 * volume_noise[i] - 0.08) * (0.6 + 0.4 * move)
        frames[asset.pair] = pd.DataFrame(
            {
                "open": prices[:, 0],
                "high": prices.max(axis=1),
                "low": prices.min(axis=1),
                "close": prices[:, -1],
                "volume": volume,
            },
            index=close_times,
        )
    return frames


def sample_rows(
    market: SampleMarket, instruments: Mapping[str, Instrument]
) -> dict[Instrument, SeriesRows]:
    """The sample's 1-hour bars in nautilus's Parquet schema, by instrument (``pair -> it``)."""
    result = {}
    for pair, frame in simulate_ohlcv(market).items():
        instrument = instruments[pair]
        bar_type = BarType.from_str(f"{instrument.id}-1-HOUR-LAST-EXTERNAL")
        columns = {name: frame[name].to_numpy() for name in frame.columns}
        close_times = frame.index.as_unit("ns").asi8
        result[instrument] = bar_rows(bar_type, instrument, columns, close_times)
    return result


def sample_bars(
    market: SampleMarket, instruments: Mapping[str, Instrument]
) -> dict[Instrument, list[Bar]]:
    """The sample as nautilus instruments and 1-hour bars."""
    return {
        instrument: Bar.from_pyo3_list(ArrowSerializer.deserialize(Bar, rows.table))
        for instrument, rows in sample_rows(market, instruments).items()
    }
