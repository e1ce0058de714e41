"""The gateway driven by nautilus-ibapi's own EClient/EWrapper (the decoder nautilus uses).

ibapi's decoder is stricter than ib_async's: messages handled by signature (nextValidId,
accountSummary, ...) must carry exactly the expected number of fields, and every typed field
is parsed. A wrong layout shows up here as a missing callback or a garbled value.
"""

# EWrapper callbacks must keep ibapi's camelCase names and argument names.
# ruff: noqa: N802, N803

from __future__ import annotations

import threading
import time
from decimal import Decimal

from ibapi.client import EClient
from ibapi.common import BarData
from ibapi.contract import Contract
from ibapi.contract import ContractDetails
from ibapi.execution import ExecutionFilter
from ibapi.order import Order
from ibapi.wrapper import EWrapper

from seraphim.sim.ibkr import ThreadedGateway

from .helpers import config


class Recorder(EWrapper, EClient):
    """Records every callback the tests look at."""

    def __init__(self) -> None:
        EWrapper.__init__(self)
        EClient.__init__(self, wrapper=self)
        self.next_id: int | None = None
        self.accounts = ""
        self.errors: list[tuple[int, int, str]] = []
        self.details: list[ContractDetails] = []
        self.bars: list[BarData] = []
        self.ended: set[str] = set()
        self.open_orders: list[tuple[int, Contract, Order, str]] = []
        self.statuses: list[tuple[int, str, Decimal, Decimal, int]] = []
        self.executions: list = []
        self.commissions: list = []
        self.summary: list[tuple[str, str, str, str]] = []
        self.positions: list[tuple[str, int, Decimal, float]] = []
        self.completed: list = []
        self.times: list[int] = []

    def nextValidId(self, orderId: int) -> None:
        self.next_id = orderId

    def managedAccounts(self, accountsList: str) -> None:
        self.accounts = accountsList

    def error(self, reqId, errorTime, errorCode, errorString, advancedOrderRejectJson="") -> None:
        self.errors.append((reqId, errorCode, errorString))

    def contractDetails(self, reqId, contractDetails) -> None:
        self.details.append(contractDetails)

    def contractDetailsEnd(self, reqId) -> None:
        self.ended.add("details")

    def historicalData(self, reqId, bar) -> None:
        self.bars.append(bar)

    def historicalDataEnd(self, reqId, start, end) -> None:
        self.ended.add("history")

    def openOrder(self, orderId, contract, order, orderState) -> None:
        self.open_orders.append((orderId, contract, order, orderState.status))

    def orderStatus(
        self,
        orderId,
        status,
        filled,
        remaining,
        avgFillPrice,
        permId,
        parentId,
        lastFillPrice,
        clientId,
        whyHeld,
        mktCapPrice,
    ) -> None:
        self.statuses.append((orderId, status, filled, remaining, clientId))

    def execDetails(self, reqId, contract, execution) -> None:
        self.executions.append((reqId, contract, execution))

    def execDetailsEnd(self, reqId) -> None:
        self.ended.add("executions")

    def commissionAndFeesReport(self, commissionAndFeesReport) -> None:
        self.commissions.append(commissionAndFeesReport)

    def accountSummary(self, reqId, account, tag, value, currency) -> None:
        self.summary.append((account, tag, value, currency))

    def accountSummaryEnd(self, reqId) -> None:
        self.ended.add("summary")

    def position(self, account, contract, position, avgCost) -> None:
        self.positions.append((account, contract.conId, position, avgCost))

    def positionEnd(self) -> None:
        self.ended.add("positions")

    def completedOrder(self, contract, order, orderState) -> None:
        self.completed.append(
            (contract.symbol, order.permId, orderState.status, order.filledQuantity)
        )

    def completedOrdersEnd(self) -> None:
        self.ended.add("completed")

    def currentTime(self, time) -> None:
        self.times.append(time)


def wait(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def stock(symbol: str) -> Contract:
    c = Contract()
    c.symbol, c.secType, c.exchange, c.currency = symbol, "STK", "SMART", "USD"
    return c


def test_ibapi_eclient_full_round_trip() -> None:
    with ThreadedGateway(config()) as gw:
        app = Recorder()
        app.connect("127.0.0.1", gw.port, clientId=21)
        reader = threading.Thread(target=app.run, daemon=True)
        reader.start()
        try:
            wait(lambda: app.next_id is not None and app.accounts)
            assert app.serverVersion() == 176 and app.accounts == "DU1234567"
            wait(lambda: len(app.errors) >= 3)  # the farm messages follow the session start
            assert [c for _, c, _ in app.errors] == [2104, 2106, 2158]

            app.reqCurrentTime()
            wait(lambda: app.times)
            assert abs(app.times[0] - time.time()) < 5

            app.reqContractDetails(1, stock("AAPL"))
            wait(lambda: "details" in app.ended)
            [d] = app.details
            assert (d.contract.conId, d.contract.primaryExchange, d.contract.tradingClass) == (
                265598,
                "NASDAQ",
                "NMS",
            )
            assert [(t.tag, t.value) for t in d.secIdList] == [("ISIN", "US0378331005")]
            assert (
                d.minSize == Decimal(1) and d.sizeIncrement == Decimal(1) and d.priceMagnifier == 1
            )
            assert d.marketRuleIds == "26" and d.longName == "APPLE INC"

            app.reqHistoricalData(2, stock("AAPL"), "", "1 D", "5 mins", "TRADES", 0, 2, False, [])
            wait(lambda: "history" in app.ended)
            assert len(app.bars) > 10 and all(b.date.isdigit() for b in app.bars)
            assert all(b.high >= b.low and b.volume > 0 for b in app.bars)

            order = Order()
            order.action, order.orderType, order.totalQuantity = "BUY", "MKT", Decimal(250)
            order.orderRef = "O-123:7"
            app.placeOrder(app.next_id, stock("MSFT"), order)
            wait(lambda: any(s[1] == "Filled" for s in app.statuses))
            wait(lambda: len(app.commissions) == len(app.executions) > 0)
            oid = app.next_id
            assert all(s[0] == oid and s[4] == 21 for s in app.statuses)
            assert (
                app.open_orders[0][2].orderRef == "O-123:7" and app.open_orders[0][3] == "Submitted"
            )
            assert app.open_orders[-1][3] == "Filled"
            assert sum(e.shares for _, _, e in app.executions) == Decimal(250)
            assert {e.execId for _, _, e in app.executions} == {c.execId for c in app.commissions}
            _, contract, execution = app.executions[0]
            assert (
                contract.conId == 272093
                and execution.orderRef == "O-123:7"
                and execution.side == "BOT"
            )
            assert execution.time.endswith("US/Eastern") and execution.acctNumber == "DU1234567"

            app.executions.clear()
            app.commissions.clear()
            app.reqExecutions(3, ExecutionFilter())
            wait(lambda: "executions" in app.ended)
            assert {r for r, _, _ in app.executions} == {3}
            assert len(app.commissions) == len(app.executions) == len(gw.server.executions)

            app.reqAccountSummary(
                4, "All", "NetLiquidation,FullAvailableFunds,FullInitMarginReq,FullMaintMarginReq"
            )
            wait(lambda: "summary" in app.ended)
            tags = {tag: (value, cur) for _, tag, value, cur in app.summary}
            assert set(tags) == {
                "NetLiquidation",
                "FullAvailableFunds",
                "FullInitMarginReq",
                "FullMaintMarginReq",
            }
            truth = gw.call(gw.server.account_values)
            assert abs(float(tags["FullInitMarginReq"][0]) - truth["FullInitMarginReq"]) < 50

            app.reqPositions()
            wait(lambda: "positions" in app.ended)
            assert [(a, c, q) for a, c, q, _ in app.positions] == [
                ("DU1234567", 272093, Decimal(250))
            ]

            app.reqCompletedOrders(False)
            wait(lambda: "completed" in app.ended)
            assert [(s, st, q) for s, _, st, q in app.completed] == [
                ("MSFT", "Filled", Decimal(250))
            ]

            app.reqContractDetails(5, stock("NOSUCH"))
            wait(lambda: any(c == 200 for _, c, _ in app.errors))
        finally:
            app.disconnect()
            reader.join(5)
