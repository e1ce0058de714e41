"""
Performance metrics of a run, from its equity curve and its closed positions.

Return ratios are nautilus's own statistics (Sharpe, Sortino, volatility, CAGR), computed on the
daily closes of Seraphim's marked-to-market equity curve and annualised over
``periods_per_year`` days (365 for crypto, 252 for stocks); nautilus's analyzer would compute them
from realised position returns, which ignore open positions. Max drawdown is taken from every
sample of the curve (each bar), which sees deeper troughs than daily closes; Calmar uses it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from nautilus_trader.analysis import CAGR
from nautilus_trader.analysis import ReturnsVolatility
from nautilus_trader.analysis import SharpeRatio
from nautilus_trader.analysis import SortinoRatio


@dataclass(frozen=True)
class Curves:
    equity: pd.Series  # indexed by UTC timestamp
    exposure: pd.Series  # gross exposure in the report currency

    @property
    def drawdown(self) -> pd.Series:
        return self.equity / self.equity.cummax() - 1.0

    def daily_returns(self) -> pd.Series:
        """Returns between the equity curve's daily closes."""
        return self.equity.resample("1D").last().dropna().pct_change().dropna()


def curves_from_samples(samples: list[tuple[int, float, float]]) -> Curves:
    frame = pd.DataFrame(samples, columns=["ts", "equity", "exposure"])
    index = pd.to_datetime(frame["ts"], unit="ns", utc=True)
    return Curves(
        equity=pd.Series(frame["equity"].to_numpy(), index=index, name="equity"),
        exposure=pd.Series(frame["exposure"].to_numpy(), index=index, name="exposure"),
    )


def _money(value: object) -> float:
    """nautilus reports write money as '12.34 USD'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0.0
    return float(str(value).split()[0])


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


NS_PER_DAY = 86_400 * 1_000_000_000


def curve_metrics(curves: Curves, periods_per_year: int = 365) -> dict[str, float | None]:
    index = pd.DatetimeIndex(curves.equity.index).as_unit("ns")
    return curve_metrics_of(
        index.asi8,
        curves.equity.to_numpy(dtype=float),
        curves.exposure.to_numpy(dtype=float),
        periods_per_year,
    )


def curve_metrics_of(
    stamps: np.ndarray, equity: np.ndarray, exposure: np.ndarray, periods_per_year: int = 365
) -> dict[str, float | None]:
    """
    The curve's metrics from its columns (UTC nanoseconds, equity, gross exposure), in the
    same floating-point operations as pandas' resample/pct_change/cummax/mean would do.
    """
    if len(equity) < 2 or equity[0] <= 0:
        return {}
    start, end = equity[0], equity[-1]
    returns = _daily_returns(stamps, equity)
    cagr = CAGR(periods_per_year).calculate_from_returns(returns) if returns else None
    drawdown = equity / np.fmax.accumulate(equity) - 1.0
    max_drawdown = float(np.nanmin(drawdown))
    calmar = cagr / abs(max_drawdown) if cagr is not None and max_drawdown < 0 else None
    gross = exposure / equity
    return {
        "start_equity": _finite(start),
        "end_equity": _finite(end),
        "total_return": _finite(end / start - 1.0),
        "cagr": _finite(cagr),
        "volatility": _finite(ReturnsVolatility(periods_per_year).calculate_from_returns(returns)),
        "sharpe": _finite(SharpeRatio(periods_per_year).calculate_from_returns(returns)),
        "sortino": _finite(SortinoRatio(periods_per_year).calculate_from_returns(returns)),
        "max_drawdown": _finite(max_drawdown),
        "max_drawdown_days": _longest_underwater_days(stamps, drawdown),
        "calmar": _finite(calmar),
        "exposure": _finite(np.count_nonzero(exposure > 0) / len(exposure)),
        "avg_gross_exposure": _finite(float(np.nansum(gross) / np.count_nonzero(~np.isnan(gross)))),
    }


def _daily_returns(stamps: np.ndarray, equity: np.ndarray) -> dict[int, float]:
    """Returns between the daily closes (each UTC day's last sample), keyed by the day (ns)."""
    known = ~np.isnan(equity)
    days, closes = stamps[known] // NS_PER_DAY, equity[known]
    last = np.append(np.flatnonzero(np.diff(days)), len(days) - 1)
    days, closes = days[last], closes[last]
    returns = closes[1:] / closes[:-1] - 1.0
    kept = ~np.isnan(returns)
    return dict(zip((days[1:][kept] * NS_PER_DAY).tolist(), returns[kept].tolist(), strict=True))


def _longest_underwater_days(stamps: np.ndarray, drawdown: np.ndarray) -> float:
    """Longest run of consecutive samples below the previous peak, in days."""
    underwater = drawdown < 0
    if not underwater.any():
        return 0.0
    edges = np.diff(np.concatenate(([0], underwater.view(np.int8), [0])))
    first, last = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return int((stamps[last] - stamps[first]).max()) / 1_000_000_000 / 86400


@dataclass
class _OpenTrade:
    side: str
    entry_ts: object  # the fill's ts_event as given
    quantity: float = 0.0  # signed
    cost: float = 0.0  # signed quantity x price
    peak: float = 0.0
    fees: float = 0.0
    pnl: float = 0.0


# A fill as round trips read it: client order id, strategy, instrument, side ("BUY"/"SELL"),
# quantity, price, commission ("1.23 USD"), ts_event; nautilus's fills report has these columns.
Fill = tuple[str, str, str, str, object, object, object, object]
TRADE_COLUMNS = ["strategy_id", "instrument_id", "side", "entry", "exit", "quantity", "pnl", "fees"]


def fills_of(fills: pd.DataFrame) -> list[Fill]:
    """A fills report's rows as ``Fill`` tuples, in the report's order."""
    if fills.empty:
        return []
    ids = fills["client_order_id"] if "client_order_id" in fills.columns else fills.index
    columns = ["strategy_id", "instrument_id", "order_side", "last_qty", "last_px"]
    commission = fills["commission"] if "commission" in fills.columns else [None] * len(fills)
    return list(
        zip(
            [str(i) for i in ids],
            *(fills[c].tolist() for c in columns),
            list(commission),
            fills["ts_event"].tolist(),
            strict=True,
        )
    )


def _sequence(client_order_id: str) -> float:
    """The order's sequence number, the id's last part (-1 when it is not a number)."""
    try:
        number = float(client_order_id.rsplit("-", 1)[-1])
    except ValueError:
        return -1.0
    return -1.0 if math.isnan(number) else number


def _in_submission_order(fills: list[Fill]) -> list[Fill]:
    """
    Fills by time, then by the order's sequence number: nautilus's report sorts client order
    ids as text (``...-10`` before ``...-9``), which would swap a flip and a flatten sent in the
    same bar.
    """
    return sorted(fills, key=lambda f: (pd.Timestamp(f[7]).value, _sequence(f[0])))


def round_trips(fills: pd.DataFrame) -> pd.DataFrame:
    """
    Round trips from fills: a trade opens when a strategy's position in an instrument leaves
    zero and closes when it returns to zero; a fill that crosses zero closes one trade and
    opens the next (its commission split pro rata). PnL is net of commissions, in the quote
    currency. Unlike nautilus's positions report, this counts NETTING flips as two trades.
    """
    trades = [
        (*trade[:3], pd.Timestamp(trade[3]), pd.Timestamp(trade[4]), *trade[5:])
        for trade in trips(fills_of(fills))
    ]
    return pd.DataFrame(trades, columns=TRADE_COLUMNS)


def trips(fills: list[Fill]) -> list[tuple]:
    """``round_trips``'s rows (entry and exit as the fills' ts_event) from ``Fill`` tuples."""
    trades = []
    open_trades: dict[tuple[str, str], _OpenTrade] = {}
    for _, strategy, instrument, side, last_qty, last_px, commission, ts in _in_submission_order(
        fills
    ):
        key = (strategy, instrument)
        sign = 1.0 if side == "BUY" else -1.0
        remaining = float(last_qty)
        price = float(last_px)
        fee_per_unit = _money(commission) / remaining if remaining else 0.0
        while remaining > 1e-12:
            trade = open_trades.get(key)
            if trade is None:
                trade = open_trades[key] = _OpenTrade("LONG" if sign > 0 else "SHORT", ts)
            closing = trade.quantity * sign < 0
            qty = min(remaining, abs(trade.quantity)) if closing else remaining
            if closing:
                average = trade.cost / trade.quantity
                trade.pnl += (price - average) * qty * (1.0 if trade.quantity > 0 else -1.0)
                trade.cost -= average * qty * (1.0 if trade.quantity > 0 else -1.0)
            else:
                trade.cost += sign * qty * price
            trade.quantity += sign * qty
            trade.peak = max(trade.peak, abs(trade.quantity))
            trade.fees += fee_per_unit * qty
            remaining -= qty
            if abs(trade.quantity) < 1e-12:
                trades.append(
                    (
                        *key,
                        trade.side,
                        trade.entry_ts,
                        ts,
                        trade.peak,
                        trade.pnl - trade.fees,
                        trade.fees,
                    )
                )
                del open_trades[key]
    return trades


def trade_metrics(fills: pd.DataFrame) -> dict[str, float | int | None]:
    return trade_metrics_of(np.array([t[6] for t in trips(fills_of(fills))], dtype=float))


def trade_metrics_of(pnl: np.ndarray) -> dict[str, float | int | None]:
    """Trade statistics of the round trips' net PnLs."""
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    return {
        "trades": len(pnl),
        "win_rate": _finite(len(wins) / len(pnl)) if len(pnl) else None,
        "profit_factor": _finite(wins.sum() / -losses.sum()) if len(losses) else None,
        "expectancy": _finite(pnl.mean()) if len(pnl) else None,
        "avg_win": _finite(wins.mean()) if len(wins) else None,
        "avg_loss": _finite(losses.mean()) if len(losses) else None,
        "realized_pnl": _finite(pnl.sum()),
    }


def fees_paid(fills: pd.DataFrame) -> dict[str, float]:
    """Commissions by currency from a nautilus fills report (one row per fill)."""
    if fills.empty or "commission" not in fills:
        return {}
    totals: dict[str, float] = {}
    for money in fills["commission"].dropna():
        amount, currency = str(money).split()
        totals[currency] = totals.get(currency, 0.0) + float(amount)
    return totals
