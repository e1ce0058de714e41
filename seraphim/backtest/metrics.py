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


def _longest_underwater_days(drawdown: pd.Series) -> float:
    """Longest run of consecutive samples below the previous peak, in days."""
    underwater = drawdown < 0
    if not underwater.any():
        return 0.0
    runs = (underwater != underwater.shift()).cumsum()[underwater]
    longest = max(g.index[-1] - g.index[0] for _, g in underwater[underwater].groupby(runs))
    return longest.total_seconds() / 86400


def curve_metrics(curves: Curves, periods_per_year: int = 365) -> dict[str, float | None]:
    equity = curves.equity
    if len(equity) < 2 or equity.iloc[0] <= 0:
        return {}
    start, end = equity.iloc[0], equity.iloc[-1]
    returns = {int(ts.value): float(r) for ts, r in curves.daily_returns().items()}
    cagr = CAGR(periods_per_year).calculate_from_returns(returns) if returns else None
    max_drawdown = float(curves.drawdown.min())
    calmar = cagr / abs(max_drawdown) if cagr is not None and max_drawdown < 0 else None
    return {
        "start_equity": _finite(start),
        "end_equity": _finite(end),
        "total_return": _finite(end / start - 1.0),
        "cagr": _finite(cagr),
        "volatility": _finite(ReturnsVolatility(periods_per_year).calculate_from_returns(returns)),
        "sharpe": _finite(SharpeRatio(periods_per_year).calculate_from_returns(returns)),
        "sortino": _finite(SortinoRatio(periods_per_year).calculate_from_returns(returns)),
        "max_drawdown": _finite(max_drawdown),
        "max_drawdown_days": _longest_underwater_days(curves.drawdown),
        "calmar": _finite(calmar),
        "exposure": _finite(float((curves.exposure > 0).mean())),
        "avg_gross_exposure": _finite(float((curves.exposure / equity).mean())),
    }


@dataclass
class _OpenTrade:
    side: str
    entry_ts: pd.Timestamp
    quantity: float = 0.0  # signed
    cost: float = 0.0  # signed quantity x price
    peak: float = 0.0
    fees: float = 0.0
    pnl: float = 0.0


def _in_submission_order(fills: pd.DataFrame) -> pd.DataFrame:
    """
    Fills by time, then by the order's sequence number: nautilus's report sorts client order
    ids as text (``...-10`` before ``...-9``), which would swap a flip and a flatten sent in the
    same bar.
    """
    ids = pd.Series(fills.index.astype(str), index=fills.index)
    if "client_order_id" in fills.columns:
        ids = fills["client_order_id"].astype(str)
    sequence = pd.to_numeric(ids.str.rsplit("-", n=1).str[-1], errors="coerce").fillna(-1)
    return (
        fills.assign(_sequence=sequence.to_numpy())
        .sort_values(["ts_event", "_sequence"], kind="stable")
        .drop(columns="_sequence")
    )


def round_trips(fills: pd.DataFrame) -> pd.DataFrame:
    """
    Round trips from fills: a trade opens when a strategy's position in an instrument leaves
    zero and closes when it returns to zero; a fill that crosses zero closes one trade and
    opens the next (its commission split pro rata). PnL is net of commissions, in the quote
    currency. Unlike nautilus's positions report, this counts NETTING flips as two trades.
    """
    columns = ["strategy_id", "instrument_id", "side", "entry", "exit", "quantity", "pnl", "fees"]
    if fills.empty:
        return pd.DataFrame(columns=columns)
    ordered = _in_submission_order(fills)
    trades = []
    open_trades: dict[tuple[str, str], _OpenTrade] = {}
    for row in ordered.itertuples():
        key = (row.strategy_id, row.instrument_id)
        sign = 1.0 if row.order_side == "BUY" else -1.0
        remaining = float(row.last_qty)
        price = float(row.last_px)
        fee_per_unit = _money(row.commission) / remaining if remaining else 0.0
        ts = pd.Timestamp(row.ts_event)
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
    return pd.DataFrame(trades, columns=columns)


def trade_metrics(fills: pd.DataFrame) -> dict[str, float | int | None]:
    pnl = round_trips(fills)["pnl"].astype(float)
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
