"""``seraphim ibkr probe|account|contract`` (ib_async) against the local gateway over sockets."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from click.testing import CliRunner
from ib_async import IB
from ib_async import LimitOrder
from ib_async import MarketOrder
from ib_async import Stock
from ib_async import util

from seraphim.adapters.ibkr.cli import ibkr
from seraphim.sim.ibkr import ThreadedGateway

from .helpers import ACCOUNT
from .helpers import ApiSession
from .helpers import gateway_config
from .helpers import wait_until


@pytest.fixture(scope="module")
def gw():
    with ThreadedGateway(gateway_config()) as gateway:
        yield gateway


def run_tool(*args: str) -> tuple[int, dict | str]:
    result = CliRunner().invoke(ibkr, list(args), catch_exceptions=False)
    try:
        return result.exit_code, json.loads(result.output.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        return result.exit_code, result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_probe_ok(gw) -> None:
    code, out = run_tool("probe", "--port", str(gw.port), "--samples", "3", "--json")
    assert code == 0, out
    assert out["verdict"] == "OK" and out["reasons"] == []
    assert out["server_version"] == 176
    assert out["accounts"] == [ACCOUNT]
    assert out["ib_connected"] is True
    assert sorted(out["farms"]) == ["secdefnj", "usfarm", "ushmds"]
    assert all(state.startswith("ok") for state in out["farms"].values())
    assert len(out["rtt_ms"]) == 3 and 0 < out["rtt_median_ms"] < 1000
    assert abs(out["clock_skew_s"]) <= 2
    # Read-only and gone again: the probe left no session behind.
    wait_until(lambda: 99 not in gw.call(gw.server.client_ids), 5, "the probe to disconnect")


def test_probe_table_output(gw) -> None:
    result = CliRunner().invoke(ibkr, ["probe", "--port", str(gw.port)])
    assert result.exit_code == 0
    assert "verdict: OK" in result.output and "DU1234567" in result.output


def test_probe_down_when_nothing_listens() -> None:
    code, out = run_tool("probe", "--port", str(_free_port()), "--json")
    assert code == 2
    assert out["verdict"] == "DOWN"
    assert "nothing accepts connections" in out["reasons"][0]


def test_probe_down_when_its_client_id_is_taken(gw) -> None:
    holder = ApiSession(gw.port, 99)
    try:
        code, out = run_tool("probe", "--port", str(gw.port), "--json", "--timeout", "3")
    finally:
        holder.close()
    assert code == 2
    assert "client id 99 is already in use" in out["reasons"][0]


def test_probe_degraded_while_the_gateway_has_lost_ib(gw) -> None:
    gw.call(gw.server.lose_connectivity)
    try:
        code, out = run_tool("probe", "--port", str(gw.port), "--json")
    finally:
        gw.call(lambda: gw.server.restore_connectivity(data_lost=False))
    assert code == 1
    assert out["verdict"] == "DEGRADED"
    assert out["ib_connected"] is False
    assert any("1100" in reason for reason in out["reasons"])


def test_probe_degraded_above_the_round_trip_limit(gw) -> None:
    code, out = run_tool("probe", "--port", str(gw.port), "--json", "--max-rtt-ms", "0.000001")
    assert code == 1 and "round trip" in out["reasons"][0]


async def _trade(port: int) -> tuple[int, int]:
    """Client 7 buys 10 AAPL at market and leaves a MSFT limit order resting far below."""
    util.getLoop.cache_clear()  # ib_async 2.0.1 keeps the first (closed) loop otherwise
    ib = IB()
    await ib.connectAsync("127.0.0.1", port, clientId=7, timeout=5)
    aapl, msft = await ib.qualifyContractsAsync(
        Stock("AAPL", "SMART", "USD"), Stock("MSFT", "SMART", "USD")
    )
    filled = ib.placeOrder(aapl, MarketOrder("BUY", 10))
    resting = ib.placeOrder(msft, LimitOrder("BUY", 5, 100.0, tif="GTC"))
    for _ in range(200):
        if filled.isDone() and resting.orderStatus.status == "Submitted":
            break
        await asyncio.sleep(0.02)
    ib.disconnect()
    return filled.order.orderId, resting.order.orderId


def test_account_shows_summary_positions_and_every_clients_open_orders(gw) -> None:
    _, resting_id = asyncio.run(_trade(gw.port))
    code, out = run_tool("account", "--port", str(gw.port), "--json")
    assert code == 0, out
    truth = gw.call(gw.server.account_values)
    summary = out["summary"][ACCOUNT]
    assert float(summary["TotalCashValue"][0]) == pytest.approx(truth["TotalCashValue"], abs=0.01)
    assert summary["NetLiquidation"][1] == "USD"
    positions = {p["contract"].split()[0]: p for p in out["positions"]}
    gateway_positions = gw.call(gw.server.positions)
    assert {s: float(p["quantity"]) for s, p in positions.items()} == {
        s: float(q) for s, q in gateway_positions.items()
    }
    assert (
        positions["AAPL"]["con_id"] == 265598 and positions["AAPL"]["contract"] == "AAPL STK SMART"
    )
    assert positions["AAPL"]["avg_cost"] == pytest.approx(
        gw.call(lambda: gw.server.account().positions[265598].avg_cost)
    )
    (order,) = [o for o in out["open_orders"] if o["order_id"] == resting_id]
    assert (order["client_id"], order["action"], order["type"]) == (7, "BUY", "LMT")
    assert (order["limit"], float(order["quantity"]), order["status"]) == (100.0, 5, "Submitted")
    assert order["contract"] == "MSFT STK SMART"


def test_account_refuses_an_unknown_account(gw) -> None:
    result = CliRunner().invoke(ibkr, ["account", "--port", str(gw.port), "--account", "U0"])
    assert result.exit_code == 2 and "not managed here" in result.output


def test_contract_qualifies_a_stock(gw) -> None:
    code, out = run_tool("contract", "AAPL", "--port", str(gw.port), "--json")
    assert code == 0
    (details,) = out["details"]
    assert details["con_id"] == 265598
    assert details["primary_exchange"] == "NASDAQ"
    assert details["isin"] == "US0378331005"
    assert details["min_tick"] == 0.01
    assert details["nautilus_instrument_id"] == "AAPL.NASDAQ"


def test_contract_crypto_maps_to_its_nautilus_id(gw) -> None:
    code, out = run_tool(
        "contract", "BTC", "--sec-type", "CRYPTO", "--exchange", "PAXOS",
        "--port", str(gw.port), "--json",
    )  # fmt: skip
    assert code == 0
    assert out["details"][0]["nautilus_instrument_id"] == "BTC/USD.PAXOS"


def test_contract_lists_an_option_chain_when_ambiguous(gw) -> None:
    code, out = run_tool("contract", "AAPL", "--sec-type", "OPT", "--port", str(gw.port), "--json")
    assert code == 0
    chain = out["details"]
    assert len(chain) == 20  # two expiries, five strikes, calls and puts
    assert {d["right"] for d in chain} == {"C", "P"}
    calls = sorted(d["strike"] for d in chain if d["right"] == "C")
    assert calls == sorted(calls) and len(set(calls)) == 5
    result = CliRunner().invoke(
        ibkr, ["contract", "AAPL", "--sec-type", "OPT", "--port", str(gw.port)]
    )
    assert "20 contracts match" in result.output


def test_contract_unknown_symbol_exits_1(gw) -> None:
    code, out = run_tool("contract", "NOPE", "--port", str(gw.port), "--json")
    assert code == 1
    assert out["details"] == [] and out["error"].startswith("200:")
