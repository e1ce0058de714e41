"""ma_cross over real Kraken history, checked against signals computed independently (pandas)."""

import pandas as pd
import pytest
from nautilus_trader.model.data import Bar

from seraphim.adapters.kraken.ingest import ingest_kraken_ohlcvt
from seraphim.backtest.config import parse_spec
from seraphim.backtest.outputs import write_outputs
from seraphim.backtest.runner import run_backtest
from seraphim.catalog.store import SeraphimCatalog

BAR_TYPE = "BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL"


@pytest.fixture(scope="module")
def real_catalog(tmp_path_factory, shared_data):
    catalog = SeraphimCatalog(tmp_path_factory.mktemp("real"))
    ingest_kraken_ohlcvt(catalog, shared_data / "kraken/ohlcvt/XBTUSD_60.csv", "BTC/USD", 60)
    return catalog


def closes(catalog, start=None, end=None) -> pd.Series:
    bars = catalog.nautilus.query(Bar, identifiers=[BAR_TYPE], start=start, end=end)
    return pd.Series(
        [b.close.as_double() for b in bars],
        index=pd.to_datetime([b.ts_event for b in bars], unit="ns", utc=True),
    )


def expected_position(fast_ma: pd.Series, slow_ma: pd.Series, long_only: bool) -> pd.Series:
    """Independent reference: the position (in units of trade_size) wanted after each bar."""
    wanted = pd.Series(float("nan"), index=fast_ma.index)
    wanted[fast_ma > slow_ma] = 1.0
    wanted[fast_ma < slow_ma] = 0.0 if long_only else -1.0
    wanted[slow_ma.isna()] = float("nan")
    return wanted.ffill().fillna(0.0)


def run(catalog, tmp_path, params, venue=None, start=None, end=None):
    spec = parse_spec(
        {
            "catalog": str(catalog.path),
            "output": str(tmp_path / "out"),
            "start": start,
            "end": end,
            "venues": [
                venue
                or {
                    "name": "KRAKEN",
                    "starting_balances": ["1000000 USD"],
                    "fill_model": {"prob_slippage": 0.0},
                },
            ],
            "data": [{"bar_type": BAR_TYPE}],
            "strategies": [{"name": "ma_cross", "params": params}],
        },
    )
    outcome = run_backtest(spec)
    write_outputs(outcome)
    return outcome


def actual_position(outcome, index: pd.DatetimeIndex, unit: float) -> pd.Series:
    """The position held after each bar, from the run's fills (flattening on stop excluded)."""
    fills = outcome.fills
    signed = fills["last_qty"].astype(float) * fills["order_side"].map({"BUY": 1, "SELL": -1})
    stamps = pd.to_datetime(fills["ts_event"], utc=True)
    per_bar = signed.groupby(stamps.to_numpy()).sum() / unit
    position = per_bar.cumsum().reindex(index, method="ffill").fillna(0.0)
    return position.round(8)


def assert_same_positions(outcome, fast_ma, slow_ma, close, long_only, unit):
    expected = expected_position(fast_ma, slow_ma, long_only)
    actual = actual_position(outcome, close.index, unit)
    # Where the averages touch, float noise decides; every other bar must match exactly.
    decisive = ((fast_ma - slow_ma).abs() > 1e-9 * close) | slow_ma.isna()
    compared = decisive.iloc[:-1]  # the last bar also carries the flattening on stop
    mismatch = (expected != actual)[:-1][compared]
    assert not mismatch.any(), expected[:-1][compared][mismatch].head()
    assert decisive.mean() > 0.99
    changes = int((expected.diff().fillna(expected.iloc[0]) != 0).sum())
    assert changes > 20
    return expected


@pytest.mark.slow
def test_sma_long_only_over_the_whole_history(real_catalog, tmp_path):
    outcome = run(real_catalog, tmp_path, {"fast": 10, "slow": 30, "trade_size": 0.1})
    close = closes(real_catalog)
    expected = assert_same_positions(
        outcome, close.rolling(10).mean(), close.rolling(30).mean(), close, True, 0.1
    )
    assert outcome.metrics["orders"] > 2000
    # Market orders fill at the bar's close (no slippage configured); a remainder beyond the
    # bar's volume fills one tick worse.
    fills = outcome.fills
    at_close = close.reindex(pd.to_datetime(fills["ts_event"], utc=True)).to_numpy()
    first = ~fills.index.duplicated()
    px = fills["last_px"].astype(float).to_numpy()
    assert abs(px[first] - at_close[first]).max() < 1e-6
    worse = (px - at_close) * fills["order_side"].map({"BUY": 1, "SELL": -1}).to_numpy()
    assert ((worse > -1e-6) & (worse < 0.1 + 1e-6)).all()
    # Flat at the end: the strategy closes its position on stop.
    final = fills["last_qty"].astype(float) * fills["order_side"].map({"BUY": 1, "SELL": -1})
    assert abs(final.sum()) < 1e-9
    assert expected.iloc[-2] in (0.0, 1.0)
    assert (tmp_path / "out" / "report.html").stat().st_size > 100_000


def test_ema_long_short_on_a_margin_account(real_catalog, tmp_path):
    start, end = "2021-01-01", "2021-07-01"
    outcome = run(
        real_catalog,
        tmp_path,
        {"fast": 12, "slow": 48, "ma_type": "ema", "long_only": False, "trade_size": 0.5},
        venue={
            "name": "KRAKEN",
            "account_type": "MARGIN",
            "starting_balances": ["1000000 USD"],
            "fill_model": {"prob_slippage": 0.0},
        },
        start=start,
        end=end,
    )
    close = closes(real_catalog, start=start, end=end)
    fast = close.ewm(span=12, adjust=False).mean()
    slow = close.ewm(span=48, adjust=False).mean()
    slow[:47] = float("nan")  # nautilus's EMA is initialised after `period` bars
    expected = assert_same_positions(outcome, fast, slow, close, False, 0.5)
    assert (expected == -1.0).any() and (expected == 1.0).any()
    assert outcome.metrics["trades"] > 10
