"""
What the dashboard reads about live nodes from Redis: their health snapshots (published by each
node's monitor actor), and their orders, positions, accounts and saved strategy state (kept by
nautilus's cache, read through ``seraphim.state``). Read-only.
"""

from __future__ import annotations

import time
from collections import Counter
from decimal import Decimal

import msgspec

from seraphim.ops import keys
from seraphim.state.reader import TraderState
from seraphim.state.reader import list_traders
from seraphim.state.settings import RedisSettings
from seraphim.state.views import account_rows
from seraphim.state.views import order_row
from seraphim.state.views import position_row
from seraphim.state.views import saved_state_rows

# A node whose snapshot is older than this many heartbeats is shown as stale.
STALE_HEARTBEATS = 3
EQUITY_POINTS = 2000  # at most this many points of a node's equity history per chart


class NodeReader:
    def __init__(self, settings: RedisSettings) -> None:
        self.settings = settings
        self.client = settings.client(timeout=3.0)

    def close(self) -> None:
        self.client.close()

    # -- which nodes ----------------------------------------------------------------------

    def traders(self) -> list[str]:
        """Every trader with a health snapshot, a control channel or state in Redis."""
        found = set(list_traders(self.client))
        for pattern, cut in (
            (keys.health_pattern(), ":health"),
            (f"{keys.PREFIX}:*:control", ":control"),
        ):
            for key in self.client.scan_iter(match=pattern, count=1000):
                found.add(key.decode().removeprefix(f"{keys.PREFIX}:").removesuffix(cut))
        return sorted(found)

    def known(self, trader_id: str) -> bool:
        return trader_id in self.traders()

    def has_control_channel(self, trader_id: str) -> bool:
        return bool(self.client.exists(keys.control_stream(trader_id)))

    # -- health -----------------------------------------------------------------------------

    def health(self, trader_id: str) -> dict | None:
        raw = self.client.get(keys.health_key(trader_id))
        return None if raw is None else with_status(msgspec.json.decode(raw))

    def healths(self) -> dict[str, dict]:
        """``{trader: snapshot}`` for every node that published one."""
        names = [k.decode() for k in self.client.scan_iter(match=keys.health_pattern(), count=1000)]
        if not names:
            return {}
        out = {}
        for key, raw in zip(names, self.client.mget(names), strict=True):
            if raw is not None:
                out[keys.trader_of_health_key(key)] = with_status(msgspec.json.decode(raw))
        return out

    def equity(self, trader_id: str, max_points: int = EQUITY_POINTS) -> list[dict]:
        """The node's equity history (a day of heartbeats, oldest first), thinned to
        ``max_points`` keeping each stretch's low and high."""
        import pandas as pd

        from seraphim.backtest.report_charts import decimate

        raw = self.client.lrange(keys.equity_key(trader_id), 0, -1)
        if not raw:
            return []
        points = [msgspec.json.decode(item) for item in raw]
        series = pd.Series([e for _, e in points], index=[ts for ts, _ in points])
        series = decimate(series, max_points)
        return [{"ts": int(ts), "equity": float(e)} for ts, e in series.items()]

    # -- state ------------------------------------------------------------------------------

    def state(self, trader_id: str) -> TraderState:
        return TraderState(self.client, trader_id)

    def orders(self, trader_id: str, status: str = "all", strategy: str | None = None,
               instrument: str | None = None, limit: int = 200) -> list[dict]:  # fmt: skip
        orders = self.state(trader_id).orders(status, strategy, instrument)[:limit]
        rows = []
        for order in orders:
            row = order_row(order)
            row["reason"] = _reason(order)
            rows.append(row)
        return rows

    def positions(self, trader_id: str, status: str = "all", strategy: str | None = None,
                  instrument: str | None = None) -> list[dict]:  # fmt: skip
        return [
            position_row(p) for p in self.state(trader_id).positions(status, strategy, instrument)
        ]

    def accounts(self, trader_id: str) -> list[dict]:
        rows = []
        for state in self.state(trader_id).accounts():
            rows.extend(account_rows(state))
        return rows

    def strategies(self, trader_id: str) -> list[dict]:
        """Each strategy the node runs (from its health) or saved, with its saved state."""
        saved = {
            row["component_id"]: row
            for row in saved_state_rows(self.state(trader_id).saved_states())
            if row["kind"] == "strategy"
        }
        health = self.health(trader_id) or {}
        running = health.get("strategies", {}) if health.get("status") == "running" else {}
        out = []
        for sid in sorted(set(saved) | set(running)):
            state = saved.get(sid, {}).get("state", {})
            out.append(
                {
                    "strategy_id": sid,
                    "running": sid in running,
                    "paused": state.get("seraphim.paused") == 1,
                    "params": state.get("seraphim.params") or {},
                    "rejects_per_minute": running.get(sid, {}).get("rejects_per_minute"),
                }
            )
        return out

    def exposure(self, trader_id: str) -> dict:
        """Open positions' notional by asset and by venue, and balances by currency and venue."""
        by_asset: dict[str, Decimal] = {}
        by_venue: dict[str, Decimal] = {}
        for p in self.state(trader_id).positions("open"):
            notional = abs(Decimal(str(p.signed_qty)) * Decimal(str(p.avg_px_open)))
            asset, venue = p.instrument_id.symbol.value, p.instrument_id.venue.value
            by_asset[asset] = by_asset.get(asset, Decimal(0)) + notional
            by_venue[venue] = by_venue.get(venue, Decimal(0)) + notional
        balances = [
            {
                "venue": r["account_id"].split("-", 1)[0],
                "currency": r["currency"],
                "total": r["total"],
            }
            for r in self.accounts(trader_id)
            if "total" in r
        ]
        return {
            "positions_by_asset": {k: float(v) for k, v in sorted(by_asset.items())},
            "positions_by_venue": {k: float(v) for k, v in sorted(by_venue.items())},
            "balances": balances,
        }

    def risk(self, trader_id: str) -> dict:
        """Guard and trading state, drawdown and daily P&L and each limit with its usage from
        the node's health, and the orders its risk gate denied, by rule (the first word of the
        denial reason)."""
        health = self.health(trader_id) or {}
        rules: Counter[str] = Counter()
        last: dict[str, str | None] = {}
        for order in self.state(trader_id).orders():  # newest first
            if order.status_string() == "DENIED":
                reason = _reason(order)
                rule = (reason or "unknown").split(":", 1)[0].split()[0]
                rules[rule] += 1
                last.setdefault(rule, reason)
        return {
            "trader_id": trader_id,
            "trading_state": health.get("trading_state"),
            "guard": health.get("guard"),
            "drawdown_pct": health.get("drawdown_pct"),
            "daily_pnl": health.get("daily_pnl"),
            "equity": health.get("equity"),
            "strategies": health.get("strategies", {}),
            "currency": (health.get("risk") or {}).get("currency"),
            "limits": (health.get("risk") or {}).get("rules", []),
            "denials": [
                {"rule": rule, "count": count, "last_reason": last[rule]}
                for rule, count in rules.most_common()
            ],
        }


def with_status(snapshot: dict, now_ns: int | None = None) -> dict:
    """The snapshot with its heartbeat age and ``status``: running, stale or stopped."""
    now_ns = now_ns or time.time_ns()
    age = (now_ns - snapshot.get("ts", 0)) / 1e9
    status = snapshot.get("status", "running")
    if status == "running" and age > STALE_HEARTBEATS * float(snapshot.get("heartbeat_secs") or 1):
        status = "stale"
    return {**snapshot, "status": status, "heartbeat_age_secs": round(age, 3)}


def _reason(order) -> str | None:
    event = order.last_event
    return (
        getattr(event, "reason", None) if order.status_string() in ("DENIED", "REJECTED") else None
    )
