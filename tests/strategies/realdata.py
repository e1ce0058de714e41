"""Helpers for strategy tests on real bars: run a spec, read bars, positions from fills."""

from __future__ import annotations

import pandas as pd
from nautilus_trader.model.data import Bar

from seraphim.backtest.config import parse_spec
from seraphim.backtest.runner import run_backtest

BTC = "BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL"
ETH = "ETH/USD.KRAKEN-1-HOUR-LAST-EXTERNAL"


def venue(name="KRAKEN", account_type="CASH", balance="1000000 USD", **extra) -> dict:
    return {
        "name": name,
        "account_type": account_type,
        "starting_balances": [balance],
        "fill_model": {"prob_slippage": 0.0},
        **extra,
    }


def run(
    catalog, out, strategies, data=(BTC,), venues=None, start=None, end=None, risk=None, **extra
):
    raw = {
        **extra,
        "catalog": str(catalog.path),
        "output": str(out),
        "start": start,
        "end": end,
        "venues": venues or [venue()],
        "data": [{"bar_type": b} for b in data],
        "strategies": strategies,
    }
    if risk is not None:
        raw["risk"] = risk
    return run_backtest(parse_spec(raw))


def engine(catalog, bar_types, start=None, end=None, account_type="MARGIN", risk=None, **config):
    """A low-level nautilus ``BacktestEngine`` over real bars (for tests that need its objects)."""
    from nautilus_trader.backtest.engine import BacktestEngine
    from nautilus_trader.backtest.engine import BacktestEngineConfig
    from nautilus_trader.config import LoggingConfig
    from nautilus_trader.model.currencies import USD
    from nautilus_trader.model.data import BarType
    from nautilus_trader.model.enums import AccountType
    from nautilus_trader.model.enums import OmsType
    from nautilus_trader.model.objects import Money

    from seraphim.assembly import risk_controller_config

    controller = risk_controller_config(risk) if risk is not None else None
    built = BacktestEngine(
        BacktestEngineConfig(
            logging=LoggingConfig(bypass_logging=True), controller=controller, **config
        )
    )
    types = [BarType.from_str(b) for b in bar_types]
    for venue_id in dict.fromkeys(t.instrument_id.venue for t in types):
        built.add_venue(
            venue_id, OmsType.NETTING, AccountType[account_type], [Money(1_000_000, USD)]
        )
    for bar_type in types:
        instrument_id = str(bar_type.instrument_id)
        (instrument,) = catalog.nautilus.instruments(instrument_ids=[instrument_id])
        if built.cache.instrument(instrument.id) is None:
            built.add_instrument(instrument)
        built.add_data(
            catalog.nautilus.query(Bar, identifiers=[str(bar_type)], start=start, end=end)
        )
    return built


def ohlcv(catalog, bar_type=BTC, start=None, end=None) -> pd.DataFrame:
    bars = catalog.nautilus.query(Bar, identifiers=[bar_type], start=start, end=end)
    return pd.DataFrame(
        {
            "open": [b.open.as_double() for b in bars],
            "high": [b.high.as_double() for b in bars],
            "low": [b.low.as_double() for b in bars],
            "close": [b.close.as_double() for b in bars],
            "volume": [b.volume.as_double() for b in bars],
        },
        index=pd.to_datetime([b.ts_event for b in bars], unit="ns", utc=True),
    )


def positions(outcome, index, instrument_id=None, strategy_id=None) -> pd.Series:
    """The position held after each bar of ``index``, from a run's (or a fills report's) fills."""
    fills = outcome if isinstance(outcome, pd.DataFrame) else outcome.fills
    if instrument_id is not None:
        fills = fills[fills["instrument_id"] == instrument_id]
    if strategy_id is not None:
        fills = fills[fills["strategy_id"] == strategy_id]
    if fills.empty:
        return pd.Series(0.0, index=index)
    signed = fills["last_qty"].astype(float) * fills["order_side"].map({"BUY": 1, "SELL": -1})
    stamps = pd.to_datetime(fills["ts_event"], utc=True)
    per_bar = signed.groupby(stamps.to_numpy()).sum()
    return per_bar.cumsum().reindex(index, method="ffill").fillna(0.0)


def run_states(values: pd.Series, long_entry, long_exit, short_entry, short_exit) -> pd.Series:
    """The docstrings' state machine, written out again: exits first, then entries when flat."""
    state, out = 0, []
    for value in values:
        if pd.isna(value):
            out.append(state)
            continue
        if (state > 0 and long_exit(value)) or (state < 0 and short_exit(value)):
            state = 0
        if state == 0:
            if long_entry(value):
                state = 1
            elif short_entry is not None and short_entry(value):
                state = -1
        out.append(state)
    return pd.Series(out, index=values.index, dtype=float)


def assert_positions_match(expected: pd.Series, actual: pd.Series, min_changes: int = 10):
    """Every bar but the last (which also carries the flattening on stop) must match."""
    diff = (expected - actual).abs().iloc[:-1]
    mismatch = diff > 1e-9
    assert not mismatch.any(), pd.DataFrame({"expected": expected, "actual": actual})[:-1][
        mismatch
    ].head(10)
    changes = int((expected.diff().fillna(expected.iloc[0]) != 0).sum())
    assert changes >= min_changes, f"only {changes} position changes: the test proves little"
