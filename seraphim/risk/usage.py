"""
How much of each configured limit a book uses now: one row per rule and scope, for the node's
health snapshot and the dashboard's risk page. Pure functions of a ``Book`` (as the rules are);
the gate builds the books.

Usage is measured as the rules measure it (worst-case exposures, see ``seraphim.risk.rules``)
and in the limit's own unit: fractions for the ``*_pct``, leverage and loss limits, units for a
position in units, the report currency for order notional. The per-order rules (order notional,
liquidity) have no standing usage: order notional shows the largest working order, the
liquidity rules none.
"""

from __future__ import annotations

from collections.abc import Callable

from seraphim.risk.config import GuardConfig
from seraphim.risk.config import RiskLimits
from seraphim.risk.rules import Book

Volatility = Callable[[str, int], float | None]


def _row(scope: str, rule: str, limit: float, usage: float | None, subject: str = "") -> dict:
    return {
        "scope": scope,
        "rule": rule,
        "subject": subject,
        "limit": limit,
        "usage": None if usage is None else round(usage, 6),
    }


def _largest(values: dict[str, float]) -> tuple[str, float]:
    """The key with the largest value (``("", 0.0)`` when there is none)."""
    if not values:
        return "", 0.0
    key = max(values, key=values.__getitem__)
    return key, values[key]


def _share(value: float, equity: float) -> float | None:
    return value / equity if equity > 0 else None


def scope_usage(
    scope: str, limits: RiskLimits, book: Book, order_notional: float, volatility: Volatility
) -> list[dict]:
    """The rows of one scope's limits against its ``book``; ``order_notional`` is the
    largest working order's notional in the scope."""
    rows = []
    exposures = book.exposures.values()
    worst_units = {e.instrument: e.worst() for e in exposures}
    worst_value = {e.instrument: e.worst() * e.unit_value for e in exposures}
    if isinstance(limits.max_position_qty, dict):
        for instrument, limit in sorted(limits.max_position_qty.items()):
            rows.append(
                _row(scope, "max_position_qty", limit, worst_units.get(instrument, 0.0), instrument)
            )
    elif limits.max_position_qty is not None:
        instrument, units = _largest(worst_units)
        rows.append(_row(scope, "max_position_qty", limits.max_position_qty, units, instrument))
    if limits.max_position_pct is not None:
        instrument, value = _largest(worst_value)
        share = _share(value, book.equity)
        rows.append(_row(scope, "max_position_pct", limits.max_position_pct, share, instrument))
    if limits.max_order_notional is not None:
        rows.append(_row(scope, "max_order_notional", limits.max_order_notional, order_notional))
    for name, group in (("max_asset_pct", "base"), ("max_venue_pct", "venue")):
        limit = getattr(limits, name)
        if limit is None:
            continue
        totals: dict[str, float] = {}
        for e in exposures:
            key = getattr(e, group)
            totals[key] = totals.get(key, 0.0) + e.worst() * e.unit_value
        subject, value = _largest(totals)
        rows.append(_row(scope, name, limit, _share(value, book.equity), subject))
    if limits.max_gross_leverage is not None:
        gross = _share(sum(worst_value.values()), book.equity)
        rows.append(_row(scope, "max_gross_leverage", limits.max_gross_leverage, gross))
    if limits.max_daily_loss is not None:
        loss = (
            max(0.0, -book.day_pnl / book.day_start_equity) if book.day_start_equity > 0 else None
        )
        rows.append(_row(scope, "max_daily_loss", limits.max_daily_loss, loss))
    if limits.max_volatility is not None:
        known = {
            i: v for i in worst_units if (v := volatility(i, limits.volatility_window)) is not None
        }
        instrument, vol = _largest(known)
        rows.append(
            _row(scope, "max_volatility", limits.max_volatility, vol if known else None, instrument)
        )
    for name in ("max_volume_fraction", "max_book_fraction"):
        limit = getattr(limits, name)
        if limit is not None:
            rows.append(_row(scope, name, limit, None))
    return rows


def guard_usage(
    config: GuardConfig, equity: float | None, peak: float | None, day_start: float | None
) -> list[dict]:
    """The portfolio guard's thresholds against the drawdown and the day's loss so far."""

    def below(reference: float | None) -> float | None:
        if equity is None or not reference or reference <= 0:
            return None
        return max(0.0, 1.0 - equity / reference)

    rows = []
    if config.max_drawdown is not None:
        rows.append(_row("guard", "max_drawdown", config.max_drawdown, below(peak)))
    if config.max_daily_loss is not None:
        rows.append(_row("guard", "max_daily_loss", config.max_daily_loss, below(day_start)))
    return rows


def most_used(per_strategy: list[list[dict]]) -> list[dict]:
    """Rows of the same limits over several strategies (the ``"*"`` default): per rule, the
    strategy that uses the most of it."""
    merged: dict[tuple[str, str], dict] = {}
    for rows in per_strategy:
        for row in rows:
            key = (row["rule"], row["subject"] if row["rule"] == "max_position_qty" else "")
            held = merged.get(key)
            if held is None or (row["usage"] or 0.0) > (held["usage"] or 0.0):
                merged[key] = row
    return list(merged.values())
