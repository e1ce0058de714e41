"""IB's awkward behaviour as a client sees it: 200, 162, 354/10167/10168, 1100-1102, 326."""

from __future__ import annotations

import asyncio

import pytest
from ib_async import IB
from ib_async import MarketOrder
from ib_async import Stock

from seraphim.sim.ibkr.faults import PacingGuard
from seraphim.sim.ibkr.faults import ScheduledFault

from .helpers import ErrorLog
from .helpers import async_test
from .helpers import connect
from .helpers import gateway
from .helpers import wait_until


@async_test
async def test_unknown_contract_gets_error_200() -> None:
    async with gateway() as gw:
        ib = await connect(gw)
        errors = ErrorLog(ib)
        assert await ib.reqContractDetailsAsync(Stock("NOPE", "SMART", "USD")) == []
        _, _, message = await errors.wait_for(200)
        assert message == "No security definition has been found for the request"
        assert await ib.qualifyContractsAsync(Stock("ZZZZ", "SMART", "USD")) == [None]
        # A hidden symbol behaves the same for contract details and market data.
        gw.faults.hide_symbol("MSFT")
        assert await ib.reqContractDetailsAsync(Stock("MSFT", "SMART", "USD")) == []
        ib.reqMktData(Stock("MSFT", "SMART", "USD", conId=272093))
        await wait_until(lambda: errors.codes().count(200) >= 4)
        ib.disconnect()


@async_test
async def test_pacing_violations_error_162() -> None:
    async with gateway(pacing=True) as gw:
        ib = await connect(gw)
        errors = ErrorLog(ib)
        [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
        first = await ib.reqHistoricalDataAsync(aapl, "", "1 D", "1 hour", "TRADES", False, 2)
        assert len(first) > 0
        again = await ib.reqHistoricalDataAsync(aapl, "", "1 D", "1 hour", "TRADES", False, 2)
        assert len(again) == 0
        _, _, message = await errors.wait_for(162)
        assert "Pacing violation" in message and "identical" in message
        # Different requests for the same contract: the sixth within two seconds is refused.
        results = []
        for size in ("5 mins", "10 mins", "15 mins", "30 mins", "1 min"):
            results.append(
                await ib.reqHistoricalDataAsync(aapl, "", "1 D", size, "TRADES", False, 2)
            )
        assert all(len(r) > 0 for r in results[:4]) and len(results[4]) == 0
        assert errors.codes().count(162) == 2
        gw.faults.pacing.enabled = False
        gw.faults.force_pacing_violations(1)
        [msft] = await ib.qualifyContractsAsync(Stock("MSFT", "SMART", "USD"))
        assert (
            len(await ib.reqHistoricalDataAsync(msft, "", "1 D", "1 hour", "TRADES", False, 2)) == 0
        )
        assert (
            len(await ib.reqHistoricalDataAsync(msft, "", "1 D", "1 hour", "TRADES", False, 2)) > 0
        )
        assert errors.codes().count(162) == 3
        ib.disconnect()


def test_pacing_rolling_window_allows_sixty_per_ten_minutes() -> None:
    guard = PacingGuard(enabled=True)
    t = 0.0
    for i in range(60):
        assert guard.check(t, ("req", i), con_id=i) is None
        t += 1.0
    assert "60 requests" in (guard.check(t, ("req", 99), con_id=99) or "")
    assert guard.check(t + 600.0, ("req", 99), con_id=99) is None


@async_test
async def test_market_data_permissions_354_10167_10168_and_delayed_ticks() -> None:
    async with gateway(permissions={"MSFT": "delayed", "SPY": "none"}) as gw:
        ib = await connect(gw)
        errors = ErrorLog(ib)
        msft, spy = await ib.qualifyContractsAsync(
            Stock("MSFT", "SMART", "USD"), Stock("SPY", "SMART", "USD")
        )
        ib.reqMktData(msft)
        _, _, message = await errors.wait_for(354)
        assert "not subscribed" in message
        assert gw.market_data_subscriptions() == 0
        ib.reqMarketDataType(3)
        ticker = ib.reqMktData(msft)
        await errors.wait_for(10167)
        await wait_until(lambda: ticker.bid > 0 and ticker.marketDataType == 3)
        assert gw.market_data_subscriptions() == 1
        sub = next(iter(next(iter(gw.connections)).state.market.values()))
        assert sub.delayed is True
        ib.reqMktData(spy)
        await errors.wait_for(10168)
        assert gw.market_data_subscriptions() == 1
        ib.disconnect()


@async_test
async def test_connectivity_lost_and_restored_with_data_lost_needs_resubscription() -> None:
    async with gateway() as gw:
        ib = await connect(gw)
        errors = ErrorLog(ib)
        [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
        ticker = ib.reqMktData(aapl)
        await wait_until(lambda: ticker.bid > 0)
        gw.lose_connectivity()
        await errors.wait_for(1100)
        await asyncio.sleep(0.1)
        frozen_at = ib.client._numMsgRecv
        await asyncio.sleep(0.3)
        assert ib.client._numMsgRecv == frozen_at, "no market data while IB is unreachable"
        dropped = gw.restore_connectivity(data_lost=True)
        await errors.wait_for(1101)
        assert dropped == 1 and gw.market_data_subscriptions() == 0
        await asyncio.sleep(0.3)
        assert ib.client._numMsgRecv == frozen_at + 1, "only the 1101 arrives: data was lost"
        # The client resubscribes; data flows again.
        ib.cancelMktData(aapl)
        ticker = ib.reqMktData(aapl)
        await wait_until(lambda: gw.market_data_subscriptions() == 1)
        await wait_until(lambda: ib.client._numMsgRecv > frozen_at + 5)
        ib.disconnect()


@async_test
async def test_connectivity_restored_with_data_kept_1102_resumes_ticks() -> None:
    async with gateway() as gw:
        ib = await connect(gw)
        errors = ErrorLog(ib)
        [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
        ib.reqMktData(aapl)
        await wait_until(lambda: gw.market_data_subscriptions() == 1)
        await gw.apply_fault("disconnect")
        await errors.wait_for(1100)
        await gw.apply_fault("reconnect-keep")
        await errors.wait_for(1102)
        assert gw.market_data_subscriptions() == 1
        before = ib.client._numMsgRecv
        await wait_until(lambda: ib.client._numMsgRecv > before + 2, timeout=8)
        ib.disconnect()


@async_test
async def test_client_id_in_use_is_refused_with_326() -> None:
    async with gateway() as gw:
        first = await connect(gw, client_id=5)
        second = IB()
        errors = ErrorLog(second)
        # ib_async only learns of the refusal through the error and the closed socket.
        with pytest.raises((ConnectionError, TimeoutError)):
            await second.connectAsync("127.0.0.1", gw.port, clientId=5, timeout=1)
        assert 326 in errors.codes()
        assert first.isConnected() and gw.client_ids() == [5]
        first.disconnect()
        await wait_until(lambda: gw.client_ids() == [])
        third = await connect(gw, client_id=5)
        assert third.isConnected()
        third.disconnect()


@async_test
async def test_nightly_restart_drops_clients_refuses_then_returns_with_state() -> None:
    async with gateway() as gw:
        ib = await connect(gw, client_id=2)
        [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
        from ib_async import MarketOrder

        trade = ib.placeOrder(aapl, MarketOrder("BUY", 10))
        await wait_until(lambda: trade.orderStatus.status == "Filled")
        port = gw.port
        restart = asyncio.create_task(gw.restart(downtime=0.5))
        await wait_until(lambda: not ib.isConnected())
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", port)
        await restart
        assert gw.restarts == 1 and gw.port == port
        ib2 = await connect(gw, client_id=2)
        assert [(p.contract.conId, p.position) for p in ib2.positions()] == [(265598, 10.0)]
        ib2.disconnect()


def test_scheduled_fault_parsing() -> None:
    assert ScheduledFault.parse("30:disconnect") == ScheduledFault(30.0, "disconnect", "")
    assert ScheduledFault.parse("5:restart:10") == ScheduledFault(5.0, "restart", "10")
    assert ScheduledFault.parse("1:no-permission:MSFT").arg == "MSFT"
    with pytest.raises(ValueError):
        ScheduledFault.parse("5:explode")


@async_test
async def test_scripted_faults_run_on_schedule() -> None:
    script = (ScheduledFault(0.1, "disconnect"), ScheduledFault(0.3, "reconnect"))
    async with gateway(faults=script) as gw:
        ib = await connect(gw)
        errors = ErrorLog(ib)
        await errors.wait_for(1100)
        await errors.wait_for(1101)
        assert errors.codes().index(1100) < errors.codes().index(1101)
        assert gw.faults.connected_to_ib
        ib.disconnect()


@async_test
async def test_trading_halt_holds_orders_until_resumed() -> None:
    async with gateway() as gw:
        ib = await connect(gw)
        [aapl, msft] = await ib.qualifyContractsAsync(
            Stock("AAPL", "SMART", "USD"), Stock("MSFT", "SMART", "USD")
        )
        await gw.apply_fault("halt", "aapl")
        halted = ib.placeOrder(aapl, MarketOrder("BUY", 10))
        trading = ib.placeOrder(msft, MarketOrder("BUY", 10))
        await wait_until(trading.isDone)
        await asyncio.sleep(0.3)  # several market ticks
        assert halted.orderStatus.status == "Submitted" and halted.orderStatus.filled == 0
        assert gw.positions() == {"MSFT": 10}
        await gw.apply_fault("resume", "AAPL")
        await wait_until(halted.isDone)
        assert gw.positions() == {"AAPL": 10, "MSFT": 10}
        assert ScheduledFault.parse("5:halt:SPY").action == "halt"
        ib.disconnect()
