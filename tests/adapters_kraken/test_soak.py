"""
Soak: a node trades the local exchange while it injects random faults (dropped connections,
stalled and lost execution messages, lost acknowledgements, duplicated and reordered
executions, REST errors, bursts of identical targets as replayed bars give), and is stopped and
restarted twice, each run a ``seraphim node run`` process of its own (the middle one trading over
REST, the others over the WebSocket). Checked continuously:
the position never exceeds the largest target plus one lot (the venue's, ten times a second;
the node's, four times a second, beyond the longest delay of executions the venue injects).
Checked after every stop: no client order id reached the venue twice, and the node's orders,
fills and balances (its ``--summary-json``) equal the venue's. The figures are printed
(``pytest -s``).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from decimal import Decimal

import pytest

from seraphim.sim.kraken import AccountConfig

from .helpers import KEY
from .helpers import SECRET
from .node_harness import exchange_balances_as_money
from .node_harness import lively_sim
from .node_harness import write_node_config
from .node_process import NodeProcess
from .node_process import node_env
from .soak import SoakConfig
from .soak import SoakStrategy

pytestmark = pytest.mark.slow

RUNS = 3  # a start and two restarts
RUN_SECS = 25
LOT = Decimal("0.01")
MAX_LOTS = 3
SEED = 11
REST_METHODS = ["OpenOrders", "QueryOrders", "QueryTrades", "BalanceEx", "AddOrder"]
OPEN = {"ACCEPTED", "PARTIALLY_FILLED", "PENDING_UPDATE", "PENDING_CANCEL", "TRIGGERED"}


def _inject(faults, rng: random.Random) -> str:
    """Arm (or fire) one random fault; returns its name."""
    kind = rng.choice(["drop", "stall", "lost_ack", "duplicate", "reorder", "rest_error"])
    if kind == "drop":
        faults.drop_ws(rng.choice(["all", "public", "private"]))
    elif kind == "stall":
        faults.delay_executions(rng.uniform(0.5, 2.5), count=rng.randint(1, 3))
    elif kind == "lost_ack":
        faults.lose_ack()  # the next AddOrder, REST or WebSocket
    elif kind == "duplicate":
        faults.duplicate_executions(count=rng.randint(1, 4))
    elif kind == "reorder":
        faults.reorder_executions(count=rng.randint(1, 3))
    else:
        faults.rest_error(
            rng.choice(["5xx", "unavailable", "busy"]),
            count=rng.randint(1, 3),
            methods=[rng.choice(REST_METHODS)],
        )
    return kind


class FaultDriver(threading.Thread):
    """While a run lasts: a random fault every 0.5-1.5 s, the venue's position checked 10/s."""

    def __init__(self, tsim, rng: random.Random, start_btc: Decimal, figures: Counter) -> None:
        super().__init__(name="soak-faults", daemon=True)
        self.tsim, self.rng, self.start_btc, self.figures = tsim, rng, start_btc, figures
        self.done = threading.Event()
        self.violations: list[str] = []

    def run(self) -> None:
        next_fault = time.monotonic() + self.rng.uniform(0.5, 1.5)
        limit = LOT * (MAX_LOTS + 1)
        while not self.done.wait(0.1):
            held = self.tsim.call(lambda: self.tsim.account.balances["XXBT"]) - self.start_btc
            self.figures["venue_position_checks"] += 1
            if not -LOT <= held <= limit:
                self.violations.append(f"venue position {held} beyond {limit}")
            if time.monotonic() >= next_fault:
                kind = self.tsim.call(lambda: _inject(self.tsim.sim.faults, self.rng))
                self.figures[f"armed:{kind}"] += 1
                next_fault = time.monotonic() + self.rng.uniform(0.5, 1.5)


def _compare_with_venue(summary: dict, tsim, figures: Counter) -> list[str]:
    """What differs between a stopped node's summary and the venue's record."""
    problems = []
    account = tsim.account
    venue_orders = list(account.orders.values())
    venue_by_txid = {o.txid: o for o in venue_orders}
    cl_ids = Counter(o.cl_ord_id for o in venue_orders if o.cl_ord_id)
    problems += [f"cl_ord_id {c} reached the venue {n} times" for c, n in cl_ids.items() if n > 1]
    figures["checks:unique_cl_ord_id"] += 1
    for order in summary["orders"]:
        figures["checks:order"] += 1
        txid, filled = order["venue_order_id"], Decimal(order["filled_qty"])
        if txid is None:
            if order["status"] in OPEN or order["status"] == "SUBMITTED" or filled:
                problems.append(f"{order['client_order_id']} never reached the venue: {order}")
            continue
        venue = venue_by_txid.get(txid)
        if venue is None:
            problems.append(f"{order['client_order_id']}: {txid} unknown to the venue")
        elif filled != venue.vol_exec or (order["status"] in OPEN) != (
            venue.status in ("pending", "open")
        ):
            problems.append(f"{order} differs from the venue's {venue.status} {venue.vol_exec}")
    known = {o["venue_order_id"] for o in summary["orders"] if o["venue_order_id"]}
    fills = {f["trade_id"]: f for f in summary["fills"]}
    for trade_id, trade in account.trades.items():
        if trade.ordertxid not in known:
            continue
        figures["checks:fill"] += 1
        fill = fills.get(trade_id)
        if fill is None:
            problems.append(f"venue trade {trade_id} missing from the node")
        elif (Decimal(fill["last_qty"]), Decimal(fill["last_px"])) != (trade.vol, trade.price):
            problems.append(f"fill {trade_id} differs from the venue's")
    problems += [f"node fill {t} unknown to the venue" for t in fills if t not in account.trades]
    for code, money in exchange_balances_as_money(tsim).items():  # at nautilus's precision
        figures["checks:balance"] += 1
        node = summary["balances"].get(code, {}).get("total")
        if node is None or Decimal(node) != money.as_decimal():
            problems.append(f"{code}: node {node} != venue {money}")
    return problems


def test_soak_faults_and_restarts_keep_the_node_and_the_venue_in_agreement(tmp_path) -> None:
    rng = random.Random(SEED)
    figures: Counter = Counter()
    problems: list[str] = []
    strategy = {
        "strategy_path": f"{SoakStrategy.__module__}:SoakStrategy",
        "config_path": f"{SoakConfig.__module__}:SoakConfig",
        "config": {
            "instrument_id": "BTC/USD.KRAKEN",
            "bar_type": "BTC/USD.KRAKEN-1-MINUTE-LAST-EXTERNAL",
            "trade_size": str(LOT),
            "lot": str(LOT),
            "max_lots": MAX_LOTS,
            "interval_ms": 400,
            "seed": SEED,
            "external_order_claims": ["BTC/USD.KRAKEN"],
        },
    }
    started = time.monotonic()
    # A pro-tier key (Kraken's most generous rate limits): the faults, not the pacing, are tested.
    with lively_sim(accounts=[AccountConfig(KEY, SECRET, tier="pro")]) as tsim:
        start_btc = tsim.call(lambda: tsim.account.balances["XXBT"])
        for run in range(RUNS):
            # The middle run places its orders over REST, the others over the WebSocket.
            path = write_node_config(
                tmp_path,
                tsim,
                kraken={"tier": "pro", "use_ws_trading": run != 1},
                timeout_disconnection=10.0,
                log_level="INFO",
                importable_strategies=[strategy],
            )
            summary_path = tmp_path / f"summary-{run}.json"
            driver = FaultDriver(tsim, rng, start_btc, figures)
            node = NodeProcess(
                path,
                "--duration",
                str(RUN_SECS),
                "--summary-json",
                str(summary_path),
                env=node_env(),
                log=tmp_path / f"node-{run}.log",
            )
            try:
                node.wait_for_output("Node running", 60)
                driver.start()
                code = node.wait(RUN_SECS + 60)
            finally:
                driver.done.set()
                if driver.is_alive():
                    driver.join(10)
                node.kill()
                tsim.call(tsim.sim.faults.clear)  # restarted once the venue is healthy again
            log = node.text()
            assert code == 0, log[-3000:]
            problems += driver.violations
            problems += [line for line in log.splitlines() if "SOAK VIOLATION" in line]
            figures["node_position_checks"] += sum(
                int(line.rsplit(" ", 1)[-1]) for line in log.splitlines() if "SOAK CHECKS:" in line
            )
            summary = json.loads(summary_path.read_text())
            problems += [f"run {run}: {p}" for p in _compare_with_venue(summary, tsim, figures)]
            figures["restarts"] = run
        figures["orders_at_venue"] = len(tsim.account.orders)
        figures["fills_at_venue"] = len(tsim.account.trades)
        fired = Counter(f["fault"] for f in tsim.sim.faults.fired)
    figures["seconds"] = round(time.monotonic() - started)
    print(f"\nsoak figures: {dict(sorted(figures.items()))}\nfaults fired: {dict(fired)}")
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems[:30])
    assert figures["restarts"] == RUNS - 1 and figures["orders_at_venue"] >= 30
    assert sum(fired.values()) >= 30
