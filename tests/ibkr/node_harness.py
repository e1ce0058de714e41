"""Run a node file with ``seraphim.node.runner.run_node`` and write what its cache holds as JSON.

Executed in a subprocess by the tests (one TradingNode per process: nautilus logging starts
once per process, and a test may kill the node to simulate a crash). Prints one JSON line per
order event and per bar as it happens, so a test can react to the node while it runs.

    python tests/ibkr/node_harness.py NODE.yaml --out result.json [--duration 30]

Without ``--duration`` the node runs until SIGINT/SIGTERM (nautilus stops it gracefully).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def _event_printer(node) -> None:
    def on_event(event) -> None:
        line = {
            "event": type(event).__name__,
            "order": event.client_order_id.value,
            "instrument": event.instrument_id.value,
        }
        print(json.dumps(line), flush=True)

    def on_bar(bar) -> None:
        # "at": wall-clock receipt (a local venue's fast clock stamps bars in its own time).
        line = {"event": "Bar", "bar_type": str(bar.bar_type), "at": time.time_ns()}
        print(json.dumps(line), flush=True)

    node.kernel.msgbus.subscribe(topic="events.order.*", handler=on_event)
    node.kernel.msgbus.subscribe(topic="data.bars.*", handler=on_bar)


def snapshot(node) -> dict:
    """Orders, positions, accounts and bars as nautilus recorded them, and the account each
    strategy sees."""
    cache = node.kernel.cache
    out: dict = {
        "orders": [],
        "positions": [],
        "accounts": {},
        "bars": {},
        "strategies": [],
        "accounts_seen": {},
    }
    for order in cache.orders():
        out["orders"].append(
            {
                "client_order_id": order.client_order_id.value,
                "venue_order_id": order.venue_order_id.value if order.venue_order_id else None,
                "strategy_id": order.strategy_id.value,
                "side": order.side_string(),
                "quantity": str(order.quantity),
                "filled_qty": str(order.filled_qty),
                "status": order.status_string(),
                "is_open": order.is_open,
                "reconciled": any(getattr(e, "reconciliation", False) for e in order.events),
                "events": [type(e).__name__ for e in order.events],
            }
        )
    for position in cache.positions():
        out["positions"].append(
            {
                "instrument_id": position.instrument_id.value,
                "strategy_id": position.strategy_id.value,
                "signed_qty": str(position.signed_decimal_qty()),
                "is_open": position.is_open,
                "realized_pnl": position.realized_pnl.as_double() if position.realized_pnl else 0,
            }
        )
    for account in cache.accounts():
        out["accounts"][account.id.value] = {
            c.code: str(m.as_decimal()) for c, m in account.balances_total().items()
        }
    for bar_type in cache.bar_types():
        bars = cache.bars(bar_type)
        out["bars"][str(bar_type)] = {
            "count": len(bars),
            "last_ts": bars[0].ts_event if bars else None,
        }
    for strategy in node.trader.strategies():
        out["strategies"].append({"id": strategy.id.value, "class": type(strategy).__name__})
        out["accounts_seen"][strategy.id.value] = _account_seen(strategy)
    return out


def _account_seen(strategy) -> dict:
    """The account a Seraphim strategy sizes against: nautilus's portfolio lookup for its
    instrument's venue, and the equity its sizers use."""
    venue = strategy.params.instrument_id.venue
    account = strategy.portfolio.account(venue)
    return {
        "venue": venue.value,
        "account": account.id.value if account is not None else None,
        "equity": strategy.equity(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("--duration", type=float, default=None)
    parser.add_argument("--out", required=True)
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args()

    from seraphim.node import runner

    seen: dict = {}
    original_build = runner.build_node

    def build_and_watch(*a, **k):
        node, spec = original_build(*a, **k)
        _event_printer(node)
        return node, spec

    runner.build_node = build_and_watch
    summary = runner.run_node(
        args.config,
        duration=args.duration,
        log_level=args.log_level,
        inspect=lambda node: seen.update(snapshot(node)),
    )
    seen["summary"] = summary.to_dict()
    Path(args.out).write_text(json.dumps(seen, indent=1, default=str))
    print(json.dumps({"event": "done"}), flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
