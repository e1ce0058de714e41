"""The gateway driven by ib_async, the client behind the operator tools."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

from ib_async import Contract
from ib_async import Crypto
from ib_async import ExecutionFilter
from ib_async import LimitOrder
from ib_async import MarketOrder
from ib_async import Option
from ib_async import Stock
from ib_async import StopOrder

from .helpers import WEDNESDAY_NOON
from .helpers import ErrorLog
from .helpers import async_test
from .helpers import connect
from .helpers import gateway
from .helpers import wait_until

NAUTILUS_ACCOUNT_TAGS = {
    "NetLiquidation",
    "FullAvailableFunds",
    "FullInitMarginReq",
    "FullMaintMarginReq",
}


@async_test
async def test_probe_server_version_accounts_farm_status_and_round_trip() -> None:
    async with gateway(accounts=("DU1234567", "DU7654321")) as gw:
        ib = await connect(gw, client_id=11)
        errors = ErrorLog(ib)
        assert ib.client.serverVersion() == 176
        assert ib.managedAccounts() == ["DU1234567", "DU7654321"]
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        server_time = await ib.reqCurrentTimeAsync()
        rtt = loop.time() - t0
        assert abs(server_time.timestamp() - dt.datetime.now(dt.UTC).timestamp()) < 5
        assert rtt < 1.0
        ib.disconnect()
        # Farm status arrives during the handshake, before errorEvent handlers of a fresh IB
        # exist, so check it on a second connection that registers the log first.
        from ib_async import IB

        ib2 = IB()
        log2 = ErrorLog(ib2)
        await ib2.connectAsync("127.0.0.1", gw.port, clientId=12, timeout=5)
        await wait_until(lambda: {2104, 2106, 2158} <= set(log2.codes()))
        assert errors.codes() == []
        ib2.disconnect()


@async_test
async def test_contract_qualification_and_details() -> None:
    async with gateway() as gw:
        ib = await connect(gw)
        aapl, spy, btc = await ib.qualifyContractsAsync(
            Stock("AAPL", "SMART", "USD"),
            Stock("SPY", "SMART", "USD"),
            Crypto("BTC", "PAXOS", "USD"),
        )
        assert (aapl.conId, aapl.primaryExchange) == (265598, "NASDAQ")
        assert (spy.conId, spy.primaryExchange) == (756733, "ARCA")
        assert (btc.secType, btc.exchange, btc.localSymbol) == ("CRYPTO", "PAXOS", "BTC.USD")
        [details] = await ib.reqContractDetailsAsync(Stock("MSFT", "SMART", "USD"))
        assert {(t.tag, t.value) for t in details.secIdList} == {("ISIN", "US5949181045")}
        assert details.minTick == 0.01 and details.longName == "MICROSOFT CORP"
        assert "SMART" in details.validExchanges and "LMT" in details.orderTypes
        assert details.timeZoneId == "US/Eastern" and details.stockType == "COMMON"
        [btc_details] = await ib.reqContractDetailsAsync(btc)
        assert float(btc_details.minSize) == 0.0001 and btc_details.minTick == 0.25
        by_isin = await ib.reqContractDetailsAsync(Contract(secIdType="ISIN", secId="US0378331005"))
        assert [d.contract.symbol for d in by_isin] == ["AAPL"]
        by_con_id = await ib.reqContractDetailsAsync(Contract(conId=756733))
        assert by_con_id[0].contract.symbol == "SPY"
        matches = await ib.reqMatchingSymbolsAsync("MS")
        assert [m.contract.symbol for m in matches] == ["MSFT"]
        aapl_desc = (await ib.reqMatchingSymbolsAsync("AAPL"))[0]
        assert aapl_desc.derivativeSecTypes == ["OPT"]
        ib.disconnect()


@async_test
async def test_option_chain_parameters_and_option_qualification() -> None:
    async with gateway() as gw:
        ib = await connect(gw)
        [chain, *_] = await ib.reqSecDefOptParamsAsync("AAPL", "", "STK", 265598)
        assert chain.exchange == "SMART" and chain.multiplier == "100"
        assert len(chain.expirations) == 2 and len(chain.strikes) == 5
        expiry, strike = chain.expirations[0], chain.strikes[2]
        [opt] = await ib.qualifyContractsAsync(Option("AAPL", expiry, strike, "C", "SMART"))
        assert (
            opt.conId > 0 and opt.multiplier == "100" and opt.lastTradeDateOrContractMonth == expiry
        )
        assert opt.localSymbol.startswith("AAPL  ") and opt.localSymbol.endswith(
            f"C{int(strike * 1000):08d}"
        )
        whole_month = await ib.reqContractDetailsAsync(Option("AAPL", expiry[:6], exchange="SMART"))
        assert len(whole_month) == 10  # 5 strikes x call/put
        ticker = ib.reqMktData(opt)
        await wait_until(lambda: ticker.bid > 0 and ticker.ask > ticker.bid)
        ib.disconnect()


@async_test
async def test_live_market_data_ticks_move() -> None:
    # Market time runs 600x faster than the test, from a Wednesday noon: quotes must move within
    # seconds whatever the wall clock says (a quiet stretch of the walk cannot stall the test).
    started = time.monotonic()

    def fast_clock() -> float:
        return WEDNESDAY_NOON + (time.monotonic() - started) * 600

    async with gateway(clock=fast_clock) as gw:
        ib = await connect(gw)
        aapl, btc = await ib.qualifyContractsAsync(
            Stock("AAPL", "SMART", "USD"), Crypto("BTC", "PAXOS", "USD")
        )
        ticker = ib.reqMktData(aapl)
        await wait_until(lambda: ticker.bid > 0 and ticker.ask > 0 and ticker.last > 0)
        assert ticker.ask > ticker.bid and 100 < ticker.bid < 400
        assert ticker.bidSize >= 100 and ticker.close > 0 and ticker.volume > 0
        assert ticker.marketDataType == 1
        # BTC moves by many ticks per second, so a changing quote must show up quickly.
        crypto = ib.reqMktData(btc)
        seen: set[float] = set()
        await wait_until(
            lambda: crypto.bid > 0 and (seen.add(crypto.bid) or len(seen) > 2), timeout=10
        )
        assert gw.market_data_subscriptions() == 2
        ib.cancelMktData(aapl)
        ib.cancelMktData(btc)
        await wait_until(lambda: gw.market_data_subscriptions() == 0)
        ib.disconnect()


@async_test
async def test_historical_bars_format_date_1_and_2() -> None:
    async with gateway(clock=lambda: WEDNESDAY_NOON) as gw:
        ib = await connect(gw)
        [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
        bars1 = await ib.reqHistoricalDataAsync(aapl, "", "1 D", "1 hour", "TRADES", True, 1)
        bars2 = await ib.reqHistoricalDataAsync(aapl, "", "1 D", "1 hour", "TRADES", True, 2)
        assert len(bars1) == len(bars2) > 0
        # formatDate 1: exchange-local datetime with zone; formatDate 2: UTC epoch.
        assert bars1[0].date.tzinfo is not None and str(bars1[0].date.tzinfo) == "US/Eastern"
        assert bars2[0].date.tzinfo == dt.UTC
        assert [b.date.timestamp() for b in bars1] == [b.date.timestamp() for b in bars2]
        assert [(b.open, b.high, b.low, b.close) for b in bars1] == [
            (b.open, b.high, b.low, b.close) for b in bars2
        ]
        # Regular hours only: the first bar of a session starts at 09:30 New York.
        assert any(b.date.strftime("%H:%M") == "09:30" for b in bars1)
        assert all(b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high for b in bars1)
        assert all(b.volume > 0 and b.barCount > 0 for b in bars1)
        daily = await ib.reqHistoricalDataAsync(
            aapl, "20250307 16:00:00 US/Eastern", "5 D", "1 day", "TRADES", True, 2
        )
        assert [b.date for b in daily] == [dt.date(2025, 3, d) for d in (3, 4, 5, 6, 7)]
        mid = await ib.reqHistoricalDataAsync(aapl, "", "3600 S", "5 mins", "MIDPOINT", True, 2)
        assert len(mid) == 12 and all(b.volume == -1 for b in mid)
        ib.disconnect()


@async_test
async def test_market_order_fills_partially_with_executions_and_commissions() -> None:
    async with gateway() as gw:
        ib = await connect(gw, client_id=3)
        [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
        trade = ib.placeOrder(aapl, MarketOrder("BUY", 3000))
        await wait_until(lambda: trade.orderStatus.status == "Filled", timeout=10)
        fills = trade.fills
        assert len(fills) >= 2  # quoted size is at most 1000 shares, so 3000 needs several fills
        assert sum(f.execution.shares for f in fills) == 3000
        await wait_until(lambda: all(f.commissionReport.commission > 0 for f in trade.fills))
        assert fills[0].commissionReport.commission >= 1.0
        assert trade.orderStatus.clientId == 3 and trade.order.permId > 0
        assert abs(trade.orderStatus.avgFillPrice - fills[-1].execution.avgPrice) < 1e-6
        record = gw.orders[0]
        assert (record.client_id, record.status, record.filled) == (3, "Filled", 3000)
        assert len(gw.executions) == len(fills)
        assert {f.execution.execId for f in fills} == {e.exec_id for e in gw.executions}
        ib.disconnect()


@async_test
async def test_positions_account_summary_and_updates_match_gateway_record() -> None:
    async with gateway() as gw:
        ib = await connect(gw)
        [msft] = await ib.qualifyContractsAsync(Stock("MSFT", "SMART", "USD"))
        buy = ib.placeOrder(msft, MarketOrder("BUY", 200))
        await wait_until(lambda: buy.orderStatus.status == "Filled")
        sell = ib.placeOrder(msft, MarketOrder("SELL", 50))
        await wait_until(lambda: sell.orderStatus.status == "Filled")
        await wait_until(lambda: any(p.position == 150 for p in ib.positions()))
        [pos] = ib.positions()
        gw_pos = gw.account().positions[msft.conId]
        assert pos.position == float(gw_pos.quantity) == 150
        assert abs(pos.avgCost - gw_pos.avg_cost) < 1e-6
        fresh = await ib.reqPositionsAsync()
        assert [(p.contract.conId, p.position) for p in fresh] == [(msft.conId, 150.0)]
        summary = {v.tag: v for v in await ib.accountSummaryAsync()}
        assert summary.keys() >= NAUTILUS_ACCOUNT_TAGS
        assert {summary[t].currency for t in NAUTILUS_ACCOUNT_TAGS} == {"USD"}
        truth = gw.account_values()
        assert abs(float(summary["TotalCashValue"].value) - truth["TotalCashValue"]) < 0.01
        assert float(summary["FullInitMarginReq"].value) > 0
        # reqAccountUpdates ran at connect: values and a portfolio line for the position.
        values = {(v.tag, v.currency): v.value for v in ib.accountValues()}
        assert float(values[("TotalCashValue", "USD")]) == round(truth["TotalCashValue"], 2)
        portfolio = ib.portfolio()
        assert [(p.contract.conId, p.position) for p in portfolio] == [(msft.conId, 150.0)]
        closing = [f for f in sell.fills if f.commissionReport.realizedPNL != 0]
        assert closing, "closing trade must report realised P&L"
        ib.disconnect()


@async_test
async def test_limit_order_rests_is_listed_and_cancels() -> None:
    async with gateway() as gw:
        ib = await connect(gw, client_id=4)
        [spy] = await ib.qualifyContractsAsync(Stock("SPY", "SMART", "USD"))
        trade = ib.placeOrder(spy, LimitOrder("BUY", 10, 1.00))
        await wait_until(lambda: trade.orderStatus.status == "Submitted")
        stop = ib.placeOrder(spy, StopOrder("BUY", 5, 10_000.0))
        await wait_until(lambda: stop.orderStatus.status == "PreSubmitted")
        open_trades = await ib.reqOpenOrdersAsync()
        assert {t.order.orderId for t in open_trades} == {trade.order.orderId, stop.order.orderId}
        ib.cancelOrder(trade.order)
        await wait_until(lambda: trade.orderStatus.status == "Cancelled")
        assert gw.engine.orders[(4, trade.order.orderId)].status == "Cancelled"
        assert [t.order.orderId for t in await ib.reqOpenOrdersAsync()] == [stop.order.orderId]
        completed = await ib.reqCompletedOrdersAsync(False)
        assert [(t.order.permId, t.orderStatus.status) for t in completed] == [
            (trade.order.permId, "Cancelled")
        ]
        ib.reqGlobalCancel()
        await wait_until(lambda: stop.orderStatus.status == "Cancelled")
        assert gw.engine.open_orders() == []
        ib.disconnect()


@async_test
async def test_limit_order_fills_when_marketable_and_modify_works() -> None:
    async with gateway() as gw:
        ib = await connect(gw)
        [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
        ticker = ib.reqMktData(aapl)
        await wait_until(lambda: ticker.ask > 0)
        order = LimitOrder("BUY", 100, round(ticker.bid * 0.9, 2))
        trade = ib.placeOrder(aapl, order)
        await wait_until(lambda: trade.orderStatus.status == "Submitted")
        await asyncio.sleep(0.2)
        assert trade.orderStatus.filled == 0
        order.lmtPrice = round(ticker.ask * 1.05, 2)
        ib.placeOrder(aapl, order)  # same orderId: a modification
        await wait_until(lambda: trade.orderStatus.status == "Filled")
        assert trade.fills[0].execution.price <= order.lmtPrice
        assert len(gw.orders) == 1
        ib.disconnect()


@async_test
async def test_restarted_client_sees_its_open_orders_and_executions_once() -> None:
    async with gateway() as gw:
        ib = await connect(gw, client_id=9)
        [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
        resting = ib.placeOrder(aapl, LimitOrder("BUY", 10, 1.00))
        filled = ib.placeOrder(aapl, MarketOrder("BUY", 100))
        await wait_until(
            lambda: (
                filled.orderStatus.status == "Filled" and resting.orderStatus.status == "Submitted"
            )
        )
        ib.disconnect()
        await wait_until(lambda: gw.client_ids() == [])
        ib2 = await connect(gw, client_id=9)
        assert [t.order.orderId for t in ib2.openTrades()] == [resting.order.orderId]
        fills = await ib2.reqExecutionsAsync(ExecutionFilter(clientId=9))
        assert [f.execution.orderId for f in fills] == [filled.order.orderId]
        # The startup sync already fetched executions with their commission reports.
        synced = ib2.fills()
        assert [f.execution.execId for f in synced] == [f.execution.execId for f in fills]
        assert all(f.commissionReport.commission > 0 for f in synced)
        # New orders continue after the highest id used, so nothing is submitted twice.
        assert ib2.client.getReqId() > filled.order.orderId
        assert len(gw.orders) == 2
        ib2.disconnect()


@async_test
async def test_two_clients_with_distinct_ids_and_all_open_orders() -> None:
    async with gateway() as gw:
        a = await connect(gw, client_id=1)
        b = await connect(gw, client_id=2)
        assert gw.client_ids() == [1, 2]
        [spy] = await a.qualifyContractsAsync(Stock("SPY", "SMART", "USD"))
        ta = a.placeOrder(spy, LimitOrder("SELL", 5, 99_999.0))
        await wait_until(lambda: ta.orderStatus.status == "Submitted")
        assert await b.reqOpenOrdersAsync() == []  # another client's order is not "mine"
        everything = await b.reqAllOpenOrdersAsync()
        assert [t.order.permId for t in everything] == [ta.order.permId]
        a.disconnect()
        b.disconnect()


@async_test
async def test_pnl_subscription_reports_realised_after_round_trip() -> None:
    async with gateway() as gw:
        ib = await connect(gw)
        [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
        pnl = ib.reqPnL("DU1234567")
        await wait_until(
            lambda: pnl.realizedPnL == pnl.realizedPnL
        )  # first update arrived (not NaN)
        for action in ("BUY", "SELL"):
            t = ib.placeOrder(aapl, MarketOrder(action, 100))
            await wait_until(lambda t=t: t.orderStatus.status == "Filled")
        expected = gw.account().realized_pnl
        await wait_until(lambda: abs(pnl.realizedPnL - round(expected, 2)) < 0.01)
        assert expected < 0  # crossing the spread and paying commission loses money
        ib.disconnect()


@async_test
async def test_account_requests_for_an_unknown_account_are_refused_as_tws_words_it() -> None:
    async with gateway() as gw:
        ib = await connect(gw)
        errors = ErrorLog(ib)
        ib.reqPnL("DU0000000")
        ib.client.reqAccountUpdatesMulti(91, "DU0000000", "", False)
        await wait_until(lambda: sum(code == 321 for _, code, _ in errors.items) == 2)
        refused = {m.split("'")[1]: (req_id, m) for req_id, code, m in errors.items if code == 321}
        unknown = "cause - Unknown account DU0000000"
        assert refused["bb"] == (91, f"Error validating request.-'bb' : {unknown}")
        assert refused["bJ"][1] == f"Error validating request.-'bJ' : {unknown}"
        assert gw.client_ids() == [ib.client.clientId]  # a refusal keeps the connection
        ib.disconnect()
