"""
Every library strategy over real Kraken hourly bars, checked against signals computed
independently with pandas on the same bars (and the rules re-implemented from the docstrings).
"""

import numpy as np
import pandas as pd
import pytest

from .realdata import BTC
from .realdata import ETH
from .realdata import assert_positions_match
from .realdata import ohlcv
from .realdata import positions
from .realdata import run
from .realdata import run_states
from .realdata import venue

START, END = "2021-01-01", "2021-05-01"
SIZE = 0.1


def test_rsi_reversal(real_catalog, tmp_path):
    params = {"period": 14, "oversold": 30, "overbought": 70, "exit_level": 50}
    outcome = run(
        real_catalog,
        tmp_path,
        [{"name": "rsi_reversal", "params": {**params, "long_only": False, "trade_size": SIZE}}],
        venues=[venue(account_type="MARGIN")],
        start=START,
        end=END,
    )
    close = ohlcv(real_catalog, start=START, end=END)["close"]
    change = close.diff().fillna(0.0)
    gain = change.clip(lower=0).ewm(span=14, adjust=False).mean()
    loss = (-change).clip(lower=0).ewm(span=14, adjust=False).mean()
    rsi = 100 - 100 / (1 + gain / loss)
    rsi[loss == 0] = 100.0
    rsi[:13] = np.nan  # nautilus's RSI is initialised after `period` closes
    expected = SIZE * run_states(
        rsi,
        long_entry=lambda v: v < 30,
        long_exit=lambda v: v > 50,
        short_entry=lambda v: v > 70,
        short_exit=lambda v: v < 50,
    )
    assert (expected < 0).any() and (expected > 0).any()
    assert_positions_match(expected, positions(outcome, close.index))


def test_bollinger_long_only(real_catalog, tmp_path):
    outcome = run(
        real_catalog,
        tmp_path,
        [{"name": "bollinger", "params": {"period": 20, "k": 2.0, "trade_size": SIZE}}],
        start=START,
        end=END,
    )
    bars = ohlcv(real_catalog, start=START, end=END)
    typical = (bars["high"] + bars["low"] + bars["close"]) / 3
    middle = typical.rolling(20).mean()
    std = typical.rolling(20).std(ddof=0)
    frame = pd.DataFrame(
        {"close": bars["close"], "mid": middle, "up": middle + 2 * std, "lo": middle - 2 * std}
    )
    state, out = 0, []
    for row in frame.itertuples():
        if not np.isnan(row.mid):
            if state > 0 and row.close >= row.mid:
                state = 0
            if state == 0 and row.close < row.lo:
                state = 1
        out.append(state)
    expected = SIZE * pd.Series(out, index=frame.index, dtype=float)
    assert_positions_match(expected, positions(outcome, frame.index))


def test_mean_reversion_long_short(real_catalog, tmp_path):
    outcome = run(
        real_catalog,
        tmp_path,
        [
            {
                "name": "mean_reversion",
                "params": {
                    "window": 48,
                    "entry_z": 2.0,
                    "exit_z": 0.5,
                    "long_only": False,
                    "trade_size": SIZE,
                },
            }
        ],
        venues=[venue(account_type="MARGIN")],
        start=START,
        end=END,
    )
    close = ohlcv(real_catalog, start=START, end=END)["close"]
    z = (close - close.rolling(48).mean()) / close.rolling(48).std(ddof=1)
    expected = SIZE * run_states(
        z,
        long_entry=lambda v: v < -2.0,
        long_exit=lambda v: v > -0.5,
        short_entry=lambda v: v > 2.0,
        short_exit=lambda v: v < 0.5,
    )
    assert (expected < 0).any() and (expected > 0).any()
    assert_positions_match(expected, positions(outcome, close.index))


def test_momentum_on_eth(real_catalog, tmp_path):
    params = {"entry_period": 48, "exit_period": 24, "roc_period": 24, "min_roc": 0.02}
    outcome = run(
        real_catalog,
        tmp_path,
        [
            {
                "name": "momentum",
                "params": {
                    **params,
                    "instrument_id": "ETH/USD.KRAKEN",
                    "bar_type": ETH,
                    "long_only": False,
                    "trade_size": 1.0,
                },
            }
        ],
        data=(ETH,),
        venues=[venue(account_type="MARGIN")],
        start=START,
        end=END,
    )
    bars = ohlcv(real_catalog, ETH, start=START, end=END)
    entry_high = bars["high"].rolling(48).max().shift(1)
    entry_low = bars["low"].rolling(48).min().shift(1)
    exit_high = bars["high"].rolling(24).max().shift(1)
    exit_low = bars["low"].rolling(24).min().shift(1)
    roc = bars["close"] / bars["close"].shift(23) - 1
    state, out = 0, []
    for t in range(len(bars)):
        c = bars["close"].iloc[t]
        if not (np.isnan(entry_high.iloc[t]) or np.isnan(roc.iloc[t])):
            if (state > 0 and c < exit_low.iloc[t]) or (state < 0 and c > exit_high.iloc[t]):
                state = 0
            if state == 0:
                if c > entry_high.iloc[t] and roc.iloc[t] > 0.02:
                    state = 1
                elif c < entry_low.iloc[t] and roc.iloc[t] < -0.02:
                    state = -1
        out.append(state)
    expected = pd.Series(out, index=bars.index, dtype=float)
    assert (expected < 0).any() and (expected > 0).any()
    assert_positions_match(
        expected, positions(outcome, bars.index, "ETH/USD.KRAKEN"), min_changes=6
    )


def test_pairs_btc_eth(real_catalog, tmp_path):
    window = 168
    outcome = run(
        real_catalog,
        tmp_path,
        [
            {
                "name": "pairs",
                "params": {
                    "instrument_b": "ETH/USD.KRAKEN",
                    "bar_type_b": ETH,
                    "window": window,
                    "entry_z": 2.0,
                    "exit_z": 0.5,
                    "trade_size": SIZE,
                },
            }
        ],
        data=(BTC, ETH),
        venues=[venue(account_type="MARGIN")],
        start=START,
        end=END,
    )
    a = ohlcv(real_catalog, BTC, start=START, end=END)["close"].rename("a")
    b = ohlcv(real_catalog, ETH, start=START, end=END)["close"].rename("b")
    aligned = pd.concat([a, b], axis=1, join="inner")
    la, lb = np.log(aligned["a"]), np.log(aligned["b"])
    cov = la.rolling(window).cov(lb)
    beta = cov / lb.rolling(window).var()
    residual = (la - la.rolling(window).mean()) - beta * (lb - lb.rolling(window).mean())
    z = residual / np.sqrt(la.rolling(window).var() - beta * cov)
    state = run_states(
        z,
        long_entry=lambda v: v < -2.0,
        long_exit=lambda v: v > -0.5,
        short_entry=lambda v: v > 2.0,
        short_exit=lambda v: v < 0.5,
    )
    assert (state < 0).any() and (state > 0).any()
    # Leg A: the state times the size. Leg B: fixed at each entry, beta * size * pA / pB.
    expected_a = SIZE * state
    entries = state.ne(state.shift()) & state.ne(0)
    hedge = (SIZE * beta * aligned["a"] / aligned["b"]).where(entries)
    expected_b = (-state * hedge.ffill()).where(state != 0, 0.0).fillna(0.0)
    actual_a = positions(outcome, aligned.index, "BTC/USD.KRAKEN")
    actual_b = positions(outcome, aligned.index, "ETH/USD.KRAKEN")
    assert_positions_match(expected_a, actual_a)
    gap = (expected_b - actual_b).abs().iloc[:-1]
    assert (gap <= 1e-6 * expected_b.abs().iloc[:-1] + 2e-8).all(), gap[gap > 1e-6].head()
    # Both legs change together: every bar one leg traded on, the other did too.
    moves_a = actual_a.diff().fillna(actual_a.iloc[0]).abs() > 0
    moves_b = actual_b.diff().fillna(actual_b.iloc[0]).abs() > 0
    assert (moves_a == moves_b).iloc[:-1].all()


@pytest.mark.slow
def test_ma_cross_and_library_on_full_eth_history(real_catalog, tmp_path):
    """The whole ETH history once, to be sure nothing breaks on years of real bars."""
    outcome = run(
        real_catalog,
        tmp_path,
        [
            {
                "name": "mean_reversion",
                "params": {"instrument_id": "ETH/USD.KRAKEN", "bar_type": ETH, "trade_size": 1.0},
            }
        ],
        data=(ETH,),
    )
    close = ohlcv(real_catalog, ETH)["close"]
    z = (close - close.rolling(48).mean()) / close.rolling(48).std(ddof=1)
    expected = run_states(
        z,
        long_entry=lambda v: v < -2.0,
        long_exit=lambda v: v > -0.5,
        short_entry=None,
        short_exit=lambda v: v < 0.5,
    )
    assert_positions_match(expected, positions(outcome, close.index), min_changes=200)


def test_cross_venue_arb_real_kraken_against_a_derived_venue(real_catalog, tmp_path):
    """
    Venue A is real: Kraken's BTC/USD bars. Venue B ("ALT") is derived from them: the same
    bars re-priced by a seeded AR(1)-with-jumps premium (seraphim.backtest.derived); only B's
    prices are synthetic.
    """
    from seraphim.backtest.derived import SpreadProcess
    from seraphim.backtest.derived import derive_venue

    process = SpreadProcess(seed=5)
    alt = str(derive_venue(real_catalog, BTC, "ALT", process, START, END, taker_fee=0.001))
    assert alt == "BTC/USD.ALT-1-HOUR-LAST-EXTERNAL"
    fees = {"taker": 0.001, "maker": 0.001, "rolling": False}
    outcome = run(
        real_catalog,
        tmp_path,
        [
            {
                "name": "cross_venue_arb",
                "params": {
                    "instrument_b": "BTC/USD.ALT",
                    "bar_type_b": alt,
                    "fee_a": 0.001,  # as charged below (Kraken's own tier would be 0.4 %)
                    "fee_b": 0.001,
                    "min_edge": 0.001,
                    "exit_spread": 0.0005,
                    "trade_size": SIZE,
                },
            }
        ],
        data=(BTC, alt),
        venues=[
            venue(account_type="MARGIN", fees=fees),
            venue("ALT", account_type="MARGIN", fees=fees),
        ],
        start=START,
        end=END,
    )
    assert outcome.synthetic == [alt]  # the derived venue is labelled synthetic, Kraken is not
    a = ohlcv(real_catalog, BTC, start=START, end=END)["close"].rename("a")
    b = ohlcv(real_catalog, alt, start=START, end=END)["close"].rename("b")
    # The derived closes are Kraken's closes times (1 + s_t), rounded to the tick.
    premium = process.simulate(len(a))
    assert np.allclose(b.to_numpy(), a.to_numpy() * (1 + premium), atol=0.051)
    aligned = pd.concat([a, b], axis=1, join="inner")
    spread = aligned["b"] / aligned["a"] - 1
    hurdle = 2 * (0.001 + 0.001) + 0.001  # round-trip taker fees on both venues + min_edge
    state = run_states(
        spread,
        long_entry=lambda s: s - 0.0005 > hurdle,
        long_exit=lambda s: s <= 0.0005,
        short_entry=lambda s: -s - 0.0005 > hurdle,
        short_exit=lambda s: s >= -0.0005,
    )
    expected_a = SIZE * state
    assert_positions_match(expected_a, positions(outcome, aligned.index, "BTC/USD.KRAKEN"))
    assert_positions_match(-expected_a, positions(outcome, aligned.index, "BTC/USD.ALT"))
    # Never entered unless the spread beat the fees: every entry bar's |spread| > hurdle.
    entries = state.ne(state.shift()) & state.ne(0)
    assert (spread[entries].abs() > hurdle).all()
    assert outcome.metrics["trades"] >= 10
