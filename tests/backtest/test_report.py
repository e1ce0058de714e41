"""The single-run report: buy and hold, trades, per-strategy breakdown, small charts."""

import json
import re

import msgspec
import numpy as np
import pandas as pd
from nautilus_trader.model.data import Bar

from seraphim.backtest.config import load_spec
from seraphim.backtest.metrics import round_trips
from seraphim.backtest.outputs import write_outputs
from seraphim.backtest.report_charts import MAX_CHART_POINTS
from seraphim.backtest.report_charts import buy_and_hold
from seraphim.backtest.report_charts import chart_x
from seraphim.backtest.report_charts import decimate
from seraphim.backtest.report_portfolio import portfolio_figures
from seraphim.backtest.report_portfolio import read_portfolio
from seraphim.backtest.report_tables import MAX_ROWS
from seraphim.backtest.runner import run_backtest
from seraphim.catalog.store import SeraphimCatalog
from seraphim.paths import REPO_ROOT


def test_decimate_keeps_extremes_and_ends():
    rng = np.random.default_rng(3)
    index = pd.date_range("2015-01-01", periods=70_000, freq="h", tz="UTC")
    series = pd.Series(rng.normal(0, 1, len(index)).cumsum(), index=index)
    thin = decimate(series)
    assert len(thin) <= MAX_CHART_POINTS
    assert thin.min() == series.min() and thin.max() == series.max()
    assert thin.index[0] == series.index[0] and thin.index[-1] == series.index[-1]
    assert thin.index.is_monotonic_increasing
    # Each of the thinned series' points is a point of the series, at its own time.
    assert (series.loc[thin.index] == thin).all()
    short = series.iloc[:100]
    assert decimate(short).equals(short)


def test_buy_and_hold_puts_equal_parts_in_each_instrument():
    index = pd.date_range("2024-01-01", periods=4, freq="D", tz="UTC")
    prices = {
        "A": pd.Series([10.0, 20.0, 20.0, 30.0], index=index),
        "B": pd.Series([100.0, 100.0, 50.0, 50.0], index=index),
    }
    held = buy_and_hold(prices, 1_000.0, index)
    # 500 in A (x3 at the end) and 500 in B (x0.5): 1500 + 250
    assert held.tolist() == [1_000.0, 1_500.0, 1_250.0, 1_750.0]


def _run(tmp_path, config: str, end: str):
    spec = load_spec(REPO_ROOT / "configs" / config)
    spec = msgspec.structs.replace(spec, output=str(tmp_path), end=end)
    outcome = run_backtest(spec)
    write_outputs(outcome)
    return outcome, (tmp_path / "report.html").read_text()


def _closes(catalog: str, bar_type: str, end: str) -> list[float]:
    bars = SeraphimCatalog(catalog).nautilus.query(Bar, identifiers=[bar_type], end=end)
    return [bar.close.as_double() for bar in bars]


def _tables(page: str) -> list[str]:
    return re.findall(r'<table[^>]*class="dataframe data"[^>]*>.*?</table>', page, re.S)


def test_single_strategy_report(tmp_path):
    outcome, page = _run(tmp_path, "demo.yaml", "2024-07-01")
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    # Buy and hold, from the catalog's own first and last close of the run's period.
    closes = _closes(outcome.spec.catalog, "BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL", "2024-07-01")
    held = closes[-1] / closes[0] - 1.0
    assert f"Over the same period, buy &amp; hold BTC/USD.KRAKEN (no fees): {held:+.2%}" in page
    assert f"this run: {metrics['total_return']:+.2%}" in page
    assert '"name":"buy & hold BTC\\u002fUSD.KRAKEN"' in page
    assert '"yaxis.type":"log"' in page  # the equity chart's log-scale button
    assert "Monthly returns" in page  # nautilus's heatmap
    # The trade list: every round trip, as in trades.csv and the metrics.
    trades = pd.read_csv(tmp_path / "trades.csv")
    assert len(trades) == metrics["trades"] > 10
    (trade_table,) = _tables(page)
    assert trade_table.count("<tr>") == min(len(trades), MAX_ROWS)  # the header row has a style
    first = trades.iloc[0]
    assert f"<td>{first['pnl']:,.2f}</td>" in trade_table
    # One strategy: no breakdown.
    assert "<h2>Strategies</h2>" not in page


def test_multi_strategy_breakdown(tmp_path):
    outcome, page = _run(tmp_path, "multi_strategy.yaml", "2024-04-01")
    trips = round_trips(outcome.fills)
    assert "<h2>Strategies</h2>" in page
    breakdown, _trades = _tables(page)
    rows = re.findall(r"<tr>\s*<td>([^<]+)</td>(.*?)</tr>", breakdown, re.S)
    assert len(rows) == len(outcome.spec.strategies) == len(set(outcome.fills["strategy_id"]))
    for strategy, cells in rows:
        values = re.findall(r"<td>([^<]*)</td>", cells)
        orders, fills, trades = (int(v.replace(",", "")) for v in values[:3])
        assert orders == (outcome.orders["strategy_id"] == strategy).sum()
        assert fills == (outcome.fills["strategy_id"] == strategy).sum()
        assert trades == (trips["strategy_id"] == strategy).sum()
        assert values[4] == f"{trips.loc[trips['strategy_id'] == strategy, 'pnl'].sum():,.2f}"
    # Two instruments: buy and hold puts half in each, at their first closes.
    growth = [
        closes[-1] / closes[0]
        for closes in (
            _closes(outcome.spec.catalog, f"{pair}/USD.KRAKEN-1-HOUR-LAST-EXTERNAL", "2024-04-01")
            for pair in ("BTC", "ETH")
        )
    ]
    held = sum(growth) / 2 - 1.0
    assert (
        "Over the same period, buy &amp; hold, equal parts of BTC/USD.KRAKEN, ETH/USD.KRAKEN "
        f"(no fees): {held:+.2%}"
    ) in page


def test_chart_times_are_epoch_milliseconds_whatever_the_resolution():
    # pandas reads "2024-01-01 01:00:00+00:00" from a CSV at second resolution: asi8 alone
    # would put such a chart in January 1970.
    parsed = pd.to_datetime(pd.Series(["2024-01-01 01:00:00+00:00"]), utc=True, format="ISO8601")
    expected = pd.Timestamp("2024-01-01 01:00", tz="UTC").value / 1e6
    assert chart_x(pd.DatetimeIndex(parsed)).tolist() == [expected]
    assert chart_x(pd.DatetimeIndex(parsed).as_unit("ns")).tolist() == [expected]


def test_portfolio_section_from_the_allocators_csvs(tmp_path):
    outcome, page = _run(tmp_path, "portfolio_risk_parity.yaml", "2024-03-01")
    returns = pd.read_csv(tmp_path / "strategy_returns.csv")
    allocation = pd.read_csv(tmp_path / "allocation.csv")
    assert "<h2>Portfolio</h2>" in page
    for title in ("Contribution", "Correlation of strategy returns", "Allocation over time"):
        assert title in page
    last = returns.groupby("strategy_id").last()
    for strategy, row in last.iterrows():
        assert f"<td>{strategy}</td>\n      <td>{row['pnl']:,.2f}</td>" in page
    assert f"Rebalances: {allocation['timestamp'].nunique():,} (" in page
    # The charts sit in the run's period (times read back from the CSV).
    period = outcome.curves.equity.index
    x = portfolio_figures(read_portfolio(tmp_path)[0])[0].data[0].x
    assert period[0].value / 1e6 <= x.min() and x.max() <= period[-1].value / 1e6


def test_execution_section_from_the_algorithms_csv(tmp_path):
    spec = load_spec(REPO_ROOT / "configs/demo.yaml")
    (entry,) = spec.strategies
    twap = {"duration_secs": 7200, "slices": 4, "seed": 7}
    params = {**entry.params, "exec_algorithm_id": "TWAP", "exec_algorithm_params": twap}
    spec = msgspec.structs.replace(
        spec,
        output=str(tmp_path),
        end="2024-03-01",
        strategies=[msgspec.structs.replace(entry, params=params)],
    )
    write_outputs(run_backtest(spec))
    page = (tmp_path / "report.html").read_text()
    quality = pd.read_csv(tmp_path / "execution.csv")
    assert len(quality) > 5 and set(quality["algorithm"]) == {"TWAP"}
    assert "<h2>Execution quality</h2>" in page
    (row,) = re.findall(r"<tr>\s*<td>TWAP</td>(.*?)</tr>", page, re.S)
    cells = re.findall(r"<td>([^<]*)</td>", row)
    # parents, children, fill ratio, slippage and shortfall (means, bps), cancelled
    assert cells[0] == f"{len(quality):,}"
    assert cells[1] == f"{quality['children'].sum():,}"
    assert cells[3] == f"{quality['slippage_bps'].mean():,.1f}"
    assert cells[4] == f"{quality['shortfall_bps'].mean():,.1f}"
    assert cells[5] == str((quality["status"] == "cancelled").sum())
