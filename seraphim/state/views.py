"""Rows (plain JSON-able dicts) for what ``seraphim state`` shows, from nautilus objects."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from typing import Any

from seraphim.state.reader import ns_to_datetime


def _iso(ns: int | None) -> str | None:
    moment = ns_to_datetime(ns)
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def order_row(order) -> dict:
    return {
        "client_order_id": order.client_order_id.value,
        "venue_order_id": _str(order.venue_order_id),
        "strategy_id": order.strategy_id.value,
        "instrument_id": order.instrument_id.value,
        "side": order.side_string(),
        "type": order.type_string(),
        "quantity": str(order.quantity),
        "filled_qty": str(order.filled_qty),
        "price": _str(getattr(order, "price", None)),
        "trigger_price": _str(getattr(order, "trigger_price", None)),
        "avg_px": order.avg_px if order.avg_px else None,
        "time_in_force": order.tif_string(),
        "status": order.status_string(),
        "open": order.is_open,
        "position_id": _str(order.position_id),
        "account_id": _str(order.account_id),
        "events": order.event_count,
        "ts_init": _iso(order.ts_init),
        "ts_last": _iso(order.ts_last),
    }


def position_row(position) -> dict:
    return {
        "position_id": position.id.value,
        "strategy_id": position.strategy_id.value,
        "instrument_id": position.instrument_id.value,
        "account_id": _str(position.account_id),
        "side": position.side.name,
        "quantity": str(position.quantity),
        "signed_qty": position.signed_qty,
        "entry": "BUY" if position.entry == 1 else "SELL",
        "avg_px_open": position.avg_px_open,
        "avg_px_close": position.avg_px_close or None,
        "realized_pnl": _str(position.realized_pnl),
        "commissions": [str(c) for c in position.commissions()],
        "open": position.is_open,
        "fills": position.event_count,
        "ts_opened": _iso(position.ts_opened),
        "ts_closed": _iso(position.ts_closed) if position.is_closed else None,
        "ts_last": _iso(position.ts_last),
    }


def account_rows(state) -> list[dict]:
    """One row per currency balance of an ``AccountState``."""
    rows = []
    for balance in state.balances:
        rows.append(
            {
                "account_id": state.account_id.value,
                "account_type": state.account_type.name,
                "currency": balance.currency.code,
                "total": str(balance.total.as_decimal()),
                "locked": str(balance.locked.as_decimal()),
                "free": str(balance.free.as_decimal()),
                "reported": state.is_reported,
                "ts_event": _iso(state.ts_event),
            }
        )
    for margin in state.margins:
        rows.append(
            {
                "account_id": state.account_id.value,
                "account_type": state.account_type.name,
                "currency": margin.currency.code,
                "margin_init": str(margin.initial.as_decimal()),
                "margin_maint": str(margin.maintenance.as_decimal()),
                "instrument_id": margin.instrument_id.value,
                "ts_event": _iso(state.ts_event),
            }
        )
    return rows


def saved_state_rows(states: dict[str, tuple[str, dict[str, bytes]]]) -> list[dict]:
    rows = []
    for component, (kind, state) in sorted(states.items()):
        rows.append(
            {
                "component_id": component,
                "kind": kind,
                "state": {key: _state_value(value) for key, value in sorted(state.items())},
            }
        )
    return rows


def _state_value(value: Any) -> Any:
    """Saved strategy state is ``dict[str, bytes]``: show text (JSON when it parses) or hex."""
    if not isinstance(value, bytes | bytearray):
        return value
    try:
        text = bytes(value).decode()
    except UnicodeDecodeError:
        return {"hex": bytes(value).hex()}
    try:
        import json

        return json.loads(text)
    except ValueError:
        return text


def health_row(
    trader_id: str,
    heartbeat: datetime | None,
    activity: datetime | None,
    counts: dict,
    stale_after: float,
    now: datetime | None = None,
) -> dict:
    now = now or datetime.now(tz=UTC)
    age = (now - heartbeat).total_seconds() if heartbeat else None
    if heartbeat is None:
        status = "no-heartbeat"
    elif age <= stale_after:
        status = "alive"
    else:
        status = "stale"
    return {
        "trader_id": trader_id,
        "status": status,
        "last_heartbeat": heartbeat.isoformat().replace("+00:00", "Z") if heartbeat else None,
        "heartbeat_age_s": round(age, 1) if age is not None else None,
        "last_activity": activity.isoformat().replace("+00:00", "Z") if activity else None,
        **counts,
    }


def to_jsonable(value: Any) -> Any:
    """A decoded nautilus value (event, data, dict, text) as JSON-able data."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, bytes | bytearray):
        return _state_value(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    to_dict = getattr(type(value), "to_dict", None)
    if to_dict is not None:
        try:
            return {"type": type(value).__name__, **to_jsonable(to_dict(value))}
        except Exception:
            pass
    return str(value)
