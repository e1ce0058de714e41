"""
nautilus's ``PortfolioAnalyzer``, fed columnar.

On nautilus 1.231 the portfolio hands the analyzer every closed position's realized PnL during
the run (``record_trade``), and the post-run analysis adds every position again
(``add_positions``); each record is appended to a pandas Series with ``pd.concat`` and each
position return with a ``.loc`` enlargement, so the cost grows with the square of the number of
positions (two thirds of an engine-only run of 70k hourly bars of a stop-and-reverse strategy).

:class:`ColumnarAnalyzer` collects the same records in lists and builds each Series once, when it
is read. It computes nothing itself: the statistics, their inputs' values, order and index are
nautilus's. :func:`use_columnar_analyzer` switches a kernel's portfolio analyzer to it.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from nautilus_trader.analysis.analyzer import PortfolioAnalyzer
from nautilus_trader.model.identifiers import PositionId
from nautilus_trader.model.objects import Currency
from nautilus_trader.model.objects import Money
from nautilus_trader.model.position import Position
from nautilus_trader.portfolio.base import PortfolioFacade
from numpy import float64

# One realized PnL record: currency, position id, PnL, event timestamp (as nautilus keeps it).
_PnlRow = tuple[Currency, str, float, int | None]


class ColumnarAnalyzer(PortfolioAnalyzer):
    """
    A ``PortfolioAnalyzer`` whose realized PnL records and position returns are collected in
    lists and turned into nautilus's Series in one step, which gives the same Series as
    nautilus's one-at-a-time appends.
    """

    def __init__(self) -> None:
        super().__init__()
        self._start_collecting()

    def _start_collecting(self) -> None:
        self._recorded_rows: list[_PnlRow] = []  # from record_trade, until realized_pnls()
        self._batch: _Batch | None = None  # add_trade / add_position_return in add_positions

    @classmethod
    def adopt(cls, analyzer: PortfolioAnalyzer) -> ColumnarAnalyzer:
        """Turn ``analyzer`` (with its registered statistics and records) into this class."""
        if not isinstance(analyzer, cls):
            analyzer.__class__ = cls
            analyzer._start_collecting()
        return analyzer  # type: ignore[return-value]

    def reset(self) -> None:
        super().reset()
        self._start_collecting()

    def record_trade(
        self,
        position_id: PositionId,
        realized_pnl: Money,
        ts_event: int | None = None,
    ) -> None:
        self._recorded_rows.append(_pnl_row(position_id, realized_pnl, ts_event))

    def realized_pnls(self, currency: Currency | None = None) -> pd.Series | None:
        if self._recorded_rows:
            rows, self._recorded_rows = self._recorded_rows, []
            _append_rows(self._recorded_realized_pnls, self._recorded_realized_pnl_timestamps, rows)
        return super().realized_pnls(currency)

    def add_positions(self, positions: list[Position]) -> None:
        batch = self._batch = _Batch(collect_returns=self._position_returns.empty)
        try:
            super().add_positions(positions)
        finally:
            self._batch = None
        _append_rows(self._realized_pnls, self._realized_pnl_timestamps, batch.trades)
        if batch.returns:
            self._position_returns = _summed_by_timestamp(batch.returns)
            self._sync_returns_alias()

    def add_trade(
        self,
        position_id: PositionId,
        realized_pnl: Money,
        ts_event: int | None = None,
    ) -> None:
        if self._batch is None:
            super().add_trade(position_id, realized_pnl, ts_event)
        else:
            self._batch.trades.append(_pnl_row(position_id, realized_pnl, ts_event))

    def add_position_return(self, timestamp: datetime, value: float) -> None:
        if self._batch is None or not self._batch.collect_returns:
            super().add_position_return(timestamp, value)
        else:
            self._batch.returns.append((timestamp, float(value)))


class _Batch:
    """What one ``add_positions`` call adds, applied when it returns."""

    def __init__(self, collect_returns: bool) -> None:
        # Returns are collected only onto an empty series (always so in calculate_statistics);
        # otherwise they go through nautilus's own path.
        self.collect_returns = collect_returns
        self.trades: list[_PnlRow] = []
        self.returns: list[tuple[datetime, float]] = []


def _pnl_row(position_id: PositionId, realized_pnl: Money, ts_event: int | None) -> _PnlRow:
    ts = int(ts_event) if ts_event is not None else None
    return realized_pnl.currency, position_id.value, realized_pnl.as_double(), ts


def _append_rows(
    pnls: dict[Currency, pd.Series],
    timestamps: dict[Currency, pd.Series],
    rows: list[_PnlRow],
) -> None:
    """Append ``rows`` to nautilus's per-currency PnL and timestamp Series, in order."""
    by_currency: dict[Currency, list[_PnlRow]] = {}
    for row in rows:
        by_currency.setdefault(row[0], []).append(row)
    for currency, group in by_currency.items():
        ids = [row[1] for row in group]
        new_pnls = pd.Series([row[2] for row in group], index=ids, dtype=float64)
        new_timestamps = pd.Series([row[3] for row in group], index=ids, dtype=object)
        pnls[currency] = _appended(pnls.get(currency), new_pnls)
        timestamps[currency] = _appended(timestamps.get(currency), new_timestamps)


def _appended(old: pd.Series | None, new: pd.Series) -> pd.Series:
    return new if old is None else pd.concat([old, new])


def _summed_by_timestamp(returns: list[tuple[datetime, float]]) -> pd.Series:
    """
    The series nautilus's ``add_position_return`` builds on an empty one: a timestamp's first
    return opens it at 0.0, later ones on the same timestamp add to it, in arrival order.
    """
    sums: dict[datetime, float] = {}
    for timestamp, value in returns:
        sums[timestamp] = sums.get(timestamp, 0.0) + value
    return pd.Series(list(sums.values()), index=pd.Index(list(sums)), dtype=float64)


def use_columnar_analyzer(portfolio: PortfolioFacade) -> ColumnarAnalyzer:
    """
    Switch ``portfolio``'s analyzer to :class:`ColumnarAnalyzer` in place. The portfolio's
    ``analyzer`` is a read-only Cython attribute, so the instance changes class instead of
    being replaced; it keeps its registered statistics.
    """
    return ColumnarAnalyzer.adopt(portfolio.analyzer)
