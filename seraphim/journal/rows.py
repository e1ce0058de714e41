"""
Journal rows from nautilus objects (live events, orders, positions, account states) and from a
backtest's reports. A row is ``(table, {column: value})``; keys make every write idempotent.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from decimal import InvalidOperation
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAMESPACE = uuid.UUID("1b8d3f0e-5c1a-4e0c-9a3e-6f7d2b1c9e42")  # for derived event ids

Row = tuple[str, dict[str, Any]]


def live_scope(trader_id: str) -> str:
    return f"live:{trader_id}"


def backtest_scope(run_id: uuid.UUID | str) -> str:
    return f"backtest:{run_id}"


def ts(ns: int | None) -> datetime | None:
    """Nanoseconds since the epoch as an aware datetime (microsecond precision, exact)."""
    if ns is None:
        return None
    return _EPOCH + timedelta(microseconds=int(ns) // 1000)


def dec(value: Any) -> Decimal | None:
    """Quantity/Price/Money/number/str as a Decimal (None stays None)."""
    if value is None:
        return None
    as_decimal = getattr(value, "as_decimal", None)
    if as_decimal is not None:
        return as_decimal()
    if isinstance(value, float):
        return Decimal(repr(value))
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def money(value: Any) -> tuple[Decimal | None, str | None]:
    """``Money`` or its text (``"150.61 USD"``) as (amount, currency)."""
    if value is None:
        return None, None
    currency = getattr(value, "currency", None)
    if currency is not None and hasattr(value, "as_decimal"):
        return value.as_decimal(), currency.code
    text = str(value).strip()
    if not text or text.lower() in ("nan", "none"):
        return None, None
    amount, _, code = text.replace(",", "").partition(" ")
    return dec(amount), code or None


def derived_id(*parts: Any) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, "|".join(str(p) for p in parts))


def _str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return None if text in ("None", "nan", "") else text


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


# -- live: from nautilus objects ------------------------------------------------------------------


def order_row(order, scope: str, run_id: uuid.UUID | None) -> Row:
    price = getattr(order, "price", None) if order.has_price else None
    trigger = getattr(order, "trigger_price", None) if order.has_trigger_price else None
    return (
        "orders",
        {
            "scope": scope,
            "client_order_id": order.client_order_id.value,
            "run_id": run_id,
            "trader_id": order.trader_id.value,
            "strategy_id": order.strategy_id.value,
            "instrument_id": order.instrument_id.value,
            "account_id": _str(order.account_id),
            "venue_order_id": _str(order.venue_order_id),
            "position_id": _str(order.position_id),
            "side": order.side_string(),
            "order_type": order.type_string(),
            "time_in_force": order.tif_string(),
            "quantity": dec(order.quantity),
            "price": dec(price),
            "trigger_price": dec(trigger),
            "filled_qty": dec(order.filled_qty),
            "avg_px": dec(order.avg_px) if order.avg_px else None,
            "status": order.status_string(),
            "tags": ",".join(order.tags) if order.tags else None,
            "event_count": order.event_count,
            "ts_init": ts(order.ts_init),
            "ts_last": ts(order.ts_last),
        },
    )


def execution_quality_row(quality, scope: str, run_id, trader_id: str) -> Row:
    """A parent order's ``seraphim.execution.quality.ExecutionQuality``."""
    return (
        "execution_quality",
        {
            "scope": scope,
            "parent_id": quality.parent_id,
            "run_id": run_id,
            "trader_id": trader_id,
            "algorithm": quality.algorithm,
            "strategy_id": quality.strategy_id,
            "instrument_id": quality.instrument_id,
            "side": quality.side,
            "quantity": dec(quality.quantity),
            "filled": dec(quality.filled),
            "children": quality.children,
            "arrival_px": dec(quality.arrival_px),
            "avg_px": dec(quality.avg_px),
            "end_px": dec(quality.end_px),
            "slippage_bps": quality.slippage_bps,
            "shortfall_bps": quality.shortfall_bps,
            "status": quality.status,
            "ts_arrival": ts(quality.ts_arrival),
            "ts_end": ts(quality.ts_end),
        },
    )


def order_event_row(event, scope: str) -> Row:
    payload = type(event).to_dict(event)
    return (
        "order_events",
        {
            "event_id": uuid.UUID(event.id.value),
            "scope": scope,
            "client_order_id": event.client_order_id.value,
            "event_type": type(event).__name__,
            "ts_event": ts(event.ts_event),
            "payload": _jsonable(payload),
        },
    )


def fill_row(fill, scope: str, run_id: uuid.UUID | None) -> Row:
    commission, commission_currency = money(fill.commission)
    return (
        "fills",
        {
            "scope": scope,
            "instrument_id": fill.instrument_id.value,
            "trade_id": fill.trade_id.value,
            "client_order_id": fill.client_order_id.value,
            "run_id": run_id,
            "trader_id": fill.trader_id.value,
            "strategy_id": fill.strategy_id.value,
            "account_id": _str(fill.account_id),
            "venue_order_id": _str(fill.venue_order_id),
            "position_id": _str(fill.position_id),
            "side": fill.order_side.name,
            "order_type": fill.order_type.name,
            "quantity": dec(fill.last_qty),
            "price": dec(fill.last_px),
            "currency": fill.currency.code,
            "commission": commission or Decimal(0),
            "commission_currency": commission_currency,
            "liquidity_side": fill.liquidity_side.name,
            "event_id": uuid.UUID(fill.id.value),
            "reconciliation": bool(fill.reconciliation),
            "ts_event": ts(fill.ts_event),
        },
    )


def position_event_rows(event, scope: str, run_id, position=None) -> list[Row]:
    """The position's latest state and the event itself, from a ``PositionEvent``."""
    realized, currency = money(event.realized_pnl)
    closed = type(event).__name__ == "PositionClosed"
    commissions = []
    if position is not None and position.ts_opened == event.ts_opened:
        commissions = [str(c) for c in position.commissions()]
    seq = position.event_count if position is not None else 0
    state = {
        "scope": scope,
        "position_id": event.position_id.value,
        "opened_at": ts(event.ts_opened),
        "run_id": run_id,
        "trader_id": event.trader_id.value,
        "strategy_id": event.strategy_id.value,
        "instrument_id": event.instrument_id.value,
        "account_id": _str(event.account_id),
        "entry": event.entry.name,
        "side": event.side.name,
        "quantity": dec(event.quantity),
        "peak_qty": dec(event.peak_qty),
        "avg_px_open": dec(event.avg_px_open),
        "avg_px_close": dec(event.avg_px_close) if event.avg_px_close else None,
        "realized_pnl": realized,
        "pnl_currency": currency or event.currency.code,
        "realized_return": float(event.realized_return or 0.0),
        "commissions": commissions,
        "closed_at": ts(event.ts_closed) if closed and event.ts_closed else None,
        "ts_last": ts(event.ts_event),
    }
    return [
        ("positions", state),
        (
            "position_events",
            {
                "event_id": uuid.UUID(event.id.value),
                "scope": scope,
                "position_id": event.position_id.value,
                "opened_at": ts(event.ts_opened),
                "run_id": run_id,
                "trader_id": event.trader_id.value,
                "strategy_id": event.strategy_id.value,
                "instrument_id": event.instrument_id.value,
                "event_type": type(event).__name__,
                "side": event.side.name,
                "quantity": dec(event.quantity),
                "realized_pnl": realized or Decimal(0),
                "pnl_currency": currency or event.currency.code,
                "seq": seq,
                "ts_event": ts(event.ts_event),
            },
        ),
    ]


def position_rows(position, scope: str, run_id, position_id: str | None = None) -> list[Row]:
    """
    A position's state from the cache (catch-up sweeps), as a derived event. ``position_id``
    overrides the id: nautilus renames snapshots of earlier netting cycles ``<id>-<uuid>``,
    while their events carried ``<id>``.
    """
    position_id = position_id or position.id.value
    realized, currency = money(position.realized_pnl)
    currency = currency or position.settlement_currency.code
    opened = ts(position.ts_opened)
    state = {
        "scope": scope,
        "position_id": position_id,
        "opened_at": opened,
        "run_id": run_id,
        "trader_id": position.trader_id.value,
        "strategy_id": position.strategy_id.value,
        "instrument_id": position.instrument_id.value,
        "account_id": _str(position.account_id),
        "entry": position.entry.name,
        "side": position.side.name,
        "quantity": dec(position.quantity),
        "peak_qty": dec(position.peak_qty),
        "avg_px_open": dec(position.avg_px_open),
        "avg_px_close": dec(position.avg_px_close) if position.avg_px_close else None,
        "realized_pnl": realized,
        "pnl_currency": currency,
        "realized_return": float(position.realized_return or 0.0),
        "commissions": [str(c) for c in position.commissions()],
        "closed_at": ts(position.ts_closed) if position.is_closed else None,
        "ts_last": ts(position.ts_last),
    }
    event = {
        "event_id": derived_id(scope, position_id, position.ts_opened, position.event_count),
        "scope": scope,
        "position_id": position_id,
        "opened_at": opened,
        "run_id": run_id,
        "trader_id": position.trader_id.value,
        "strategy_id": position.strategy_id.value,
        "instrument_id": position.instrument_id.value,
        "event_type": "PositionSnapshot",
        "side": position.side.name,
        "quantity": dec(position.quantity),
        "realized_pnl": realized or Decimal(0),
        "pnl_currency": currency,
        "seq": position.event_count,
        "ts_event": ts(position.ts_last),
    }
    return [("positions", state), ("position_events", event)]


def account_rows(state, scope: str, run_id, trader_id: str) -> list[Row]:
    rows = []
    for balance in state.balances:
        rows.append(
            (
                "account_snapshots",
                {
                    "event_id": uuid.UUID(state.id.value),
                    "currency": balance.currency.code,
                    "scope": scope,
                    "run_id": run_id,
                    "trader_id": trader_id,
                    "account_id": state.account_id.value,
                    "account_type": state.account_type.name,
                    "total": balance.total.as_decimal(),
                    "locked": balance.locked.as_decimal(),
                    "free": balance.free.as_decimal(),
                    "reported": bool(state.is_reported),
                    "ts_event": ts(state.ts_event),
                },
            )
        )
    return rows


def order_rows_with_events(order, scope: str, run_id) -> list[Row]:
    """Everything an order in the cache holds: its state, every event, every fill."""
    rows = [order_row(order, scope, run_id)]
    for event in order.events:
        rows.append(order_event_row(event, scope))
        if type(event).__name__ == "OrderFilled":
            rows.append(fill_row(event, scope, run_id))
    return rows


# -- backtests: from the run's reports ------------------------------------------------------------


def _frame_records(frame, index_name: str) -> list[dict]:
    if frame is None or len(frame) == 0:
        return []
    return frame.reset_index(names=index_name).to_dict("records")


def _ts_any(value) -> datetime | None:
    if value is None:
        return None
    try:
        import pandas as pd

        if isinstance(value, int | float) and not pd.isna(value):
            return ts(int(value))
        stamp = pd.Timestamp(value)
        if pd.isna(stamp):
            return None
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        return stamp.to_pydatetime()
    except (TypeError, ValueError):
        return None


def backtest_rows(outcome, run_id: uuid.UUID, trader_id: str) -> list[Row]:
    """Orders, fills, positions (with their realized PnL) and balances of a finished backtest."""
    scope = backtest_scope(run_id)
    rows: list[Row] = []
    for r in _frame_records(outcome.orders, "client_order_id"):
        rows.append(
            (
                "orders",
                {
                    "scope": scope,
                    "client_order_id": r["client_order_id"],
                    "run_id": run_id,
                    "trader_id": str(r.get("trader_id") or trader_id),
                    "strategy_id": str(r["strategy_id"]),
                    "instrument_id": str(r["instrument_id"]),
                    "account_id": _str(r.get("account_id")),
                    "venue_order_id": _str(r.get("venue_order_id")),
                    "position_id": _str(r.get("position_id")),
                    "side": str(r["side"]),
                    "order_type": str(r["type"]),
                    "time_in_force": _str(r.get("time_in_force")),
                    "quantity": dec(r["quantity"]),
                    "price": dec(r.get("price")) if _str(r.get("price")) else None,
                    "trigger_price": (
                        dec(r.get("trigger_price")) if _str(r.get("trigger_price")) else None
                    ),
                    "filled_qty": dec(r.get("filled_qty")) or Decimal(0),
                    "avg_px": dec(r.get("avg_px")) if _str(r.get("avg_px")) else None,
                    "status": str(r["status"]),
                    "tags": _str(r.get("tags")),
                    "event_count": 1,
                    "ts_init": _ts_any(r.get("ts_init")),
                    "ts_last": _ts_any(r.get("ts_last")),
                },
            )
        )
    for r in _frame_records(outcome.fills, "client_order_id"):
        commission, commission_currency = money(r.get("commission"))
        rows.append(
            (
                "fills",
                {
                    "scope": scope,
                    "instrument_id": str(r["instrument_id"]),
                    "trade_id": str(r["trade_id"]),
                    "client_order_id": str(r["client_order_id"]),
                    "run_id": run_id,
                    "trader_id": str(r.get("trader_id") or trader_id),
                    "strategy_id": str(r["strategy_id"]),
                    "account_id": _str(r.get("account_id")),
                    "venue_order_id": _str(r.get("venue_order_id")),
                    "position_id": _str(r.get("position_id")),
                    "side": str(r["order_side"]),
                    "order_type": _str(r.get("order_type")),
                    "quantity": dec(r["last_qty"]),
                    "price": dec(r["last_px"]),
                    "currency": _str(r.get("currency")),
                    "commission": commission or Decimal(0),
                    "commission_currency": commission_currency or _str(r.get("currency")),
                    "liquidity_side": _str(r.get("liquidity_side")),
                    "event_id": uuid.UUID(str(r["event_id"])),
                    "reconciliation": bool(r.get("reconciliation") or False),
                    "ts_event": _ts_any(r.get("ts_event")),
                },
            )
        )
    for r in _frame_records(outcome.positions, "position_id"):
        realized, currency = money(r.get("realized_pnl"))
        opened = _ts_any(r.get("ts_opened"))
        closed = _ts_any(r.get("ts_closed"))
        last = _ts_any(r.get("ts_last")) or closed or opened
        commissions = r.get("commissions")
        commission_list = (
            [str(c) for c in commissions] if isinstance(commissions, list | tuple) else []
        )
        rows.append(
            (
                "positions",
                {
                    "scope": scope,
                    "position_id": str(r["position_id"]),
                    "opened_at": opened,
                    "run_id": run_id,
                    "trader_id": str(r.get("trader_id") or trader_id),
                    "strategy_id": str(r["strategy_id"]),
                    "instrument_id": str(r["instrument_id"]),
                    "account_id": _str(r.get("account_id")),
                    "entry": _str(r.get("entry")),
                    "side": str(r["side"]),
                    "quantity": dec(r["quantity"]),
                    "peak_qty": dec(r.get("peak_qty")),
                    "avg_px_open": dec(r.get("avg_px_open")),
                    "avg_px_close": dec(r.get("avg_px_close")) if r.get("avg_px_close") else None,
                    "realized_pnl": realized,
                    "pnl_currency": currency,
                    "realized_return": float(r.get("realized_return") or 0.0),
                    "commissions": commission_list,
                    "closed_at": closed,
                    "ts_last": last,
                },
            )
        )
        # A backtest keeps no position events: its PnL is realized when each cycle closes.
        rows.append(
            (
                "position_events",
                {
                    "event_id": derived_id(scope, r["position_id"], opened),
                    "scope": scope,
                    "position_id": str(r["position_id"]),
                    "opened_at": opened,
                    "run_id": run_id,
                    "trader_id": str(r.get("trader_id") or trader_id),
                    "strategy_id": str(r["strategy_id"]),
                    "instrument_id": str(r["instrument_id"]),
                    "event_type": "PositionClosed" if closed else "PositionSnapshot",
                    "side": str(r["side"]),
                    "quantity": dec(r["quantity"]),
                    "realized_pnl": realized or Decimal(0),
                    "pnl_currency": currency,
                    "seq": 0,
                    "ts_event": closed or last,
                },
            )
        )
    for venue, frame in (outcome.accounts or {}).items():
        for index, r in enumerate(_frame_records(frame, "timestamp")):
            stamp = _ts_any(r.get("timestamp"))
            rows.append(
                (
                    "account_snapshots",
                    {
                        "event_id": derived_id(scope, venue, index, stamp),
                        "currency": str(r["currency"]),
                        "scope": scope,
                        "run_id": run_id,
                        "trader_id": trader_id,
                        "account_id": str(r.get("account_id") or venue),
                        "account_type": _str(r.get("account_type")),
                        "total": dec(r["total"]),
                        "locked": dec(r["locked"]),
                        "free": dec(r["free"]),
                        "reported": bool(r.get("reported") or False),
                        "ts_event": stamp,
                    },
                )
            )
    return rows
