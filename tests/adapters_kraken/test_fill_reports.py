"""
The venue's fill reports (REST ``TradesHistory``: times to 0.1 ms) equal the fills the node
recorded from the executions stream (times to the microsecond) for the same trades, so a
restart's reconciliation finds nothing that "differs" (issue 11, fault 9).
"""

from __future__ import annotations

import asyncio

import pytest
from nautilus_trader.model.events import OrderFilled

from seraphim.adapters.kraken.http.endpoints import KrakenSpotApi
from seraphim.node.lifecycle import node_clients

from .helpers import KEY
from .helpers import SECRET
from .helpers import http_client
from .node_harness import lively_sim
from .node_harness import probe
from .node_harness import write_node_config
from .probe import RECORDS

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def kraken_env(monkeypatch):
    monkeypatch.setenv("KRAKEN_API_KEY", KEY)
    monkeypatch.setenv("KRAKEN_API_SECRET", SECRET)


def test_fill_reports_equal_the_fills_recorded_from_the_stream(tmp_path) -> None:
    from seraphim.node.runner import run_node

    RECORDS.pop("fills", None)
    compared: dict[str, list[str]] = {}
    with lively_sim() as tsim:

        async def venue_trades():
            client = http_client(tsim.sim)
            try:
                return await KrakenSpotApi(client).trades_history_all()
            finally:
                await client.close()

        def inspect(node) -> None:
            (execution,) = [c for kind, c in node_clients(node.kernel) if kind == "exec"]
            engine = node.kernel.exec_engine
            recorded = {
                e.trade_id.value: e
                for o in node.kernel.cache.orders()
                for e in o.events
                if isinstance(e, OrderFilled)
            }
            for trade_id, trade in asyncio.run(venue_trades()).items():
                report = execution._fill_report(trade_id, trade)
                fill = recorded[trade_id]
                # nautilus's own test before its "Fill report data differs" warning.
                equal = engine._fill_reports_equal(fill, report)
                compared[trade_id] = [] if equal else [str(fill), str(report)]

        path = write_node_config(tmp_path, tsim)
        run_node(path, duration=5.0, extra_strategies=[probe("fills")], inspect=inspect)
    assert len(compared) == 6
    assert {k: v for k, v in compared.items() if v} == {}
