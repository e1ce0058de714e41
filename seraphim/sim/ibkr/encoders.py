"""Outgoing messages in the exact field layouts the v176 decoders expect.

Layouts were taken from nautilus-ibapi's ``decoder.py``/``orderdecoder.py`` and ib_async's
``decoder.py`` at server version 176: no version field on contractDetails (>= 164),
openOrder (>= 145), execDetails (>= 136), orderStatus (>= 131) or historicalData (>= 124);
openOrder and completedOrder still carry the deprecated faProfile field (dropped at 177).
"""

from __future__ import annotations

import datetime as dt

from seraphim.sim.ibkr.contracts import NEW_YORK
from seraphim.sim.ibkr.contracts import ContractSpec
from seraphim.sim.ibkr.matching import Execution
from seraphim.sim.ibkr.matching import SimOrder
from seraphim.sim.ibkr.messages import ERRORS
from seraphim.sim.ibkr.messages import Out
from seraphim.sim.ibkr.protocol import UNSET_DOUBLE
from seraphim.sim.ibkr.protocol import Field

Fields = list[Field]
MAX_DOUBLE_TEXT = "1.7976931348623157E308"


def error(req_id: int, code: int, message: str | None = None) -> Fields:
    """error: ``[4, 2, reqId, code, text, advancedOrderRejectJson]``."""
    return [
        Out.ERR_MSG,
        2,
        req_id,
        code,
        message if message is not None else ERRORS.get(code, ""),
        "",
    ]


def next_valid_id(order_id: int) -> Fields:
    """nextValidId: ``[9, 1, id]``."""
    return [Out.NEXT_VALID_ID, 1, order_id]


def managed_accounts(accounts: list[str]) -> Fields:
    """managedAccounts: ``[15, 1, 'A,B']``."""
    return [Out.MANAGED_ACCTS, 1, ",".join(accounts)]


def current_time(epoch: int) -> Fields:
    """currentTime: ``[49, 1, epoch]``."""
    return [Out.CURRENT_TIME, 1, epoch]


def _contract_short(spec: ContractSpec, exchange: str | None = None) -> Fields:
    """conId, symbol, secType, lastTradeDate, strike, right, multiplier, exchange, currency,
    localSymbol, tradingClass."""
    return [
        spec.con_id,
        spec.symbol,
        spec.sec_type,
        spec.last_trade_date,
        spec.strike,
        spec.right,
        spec.multiplier,
        spec.exchange if exchange is None else exchange,
        spec.currency,
        spec.local_symbol,
        spec.trading_class,
    ]


def _sessions_text(spec: ContractSpec, today: dt.date, rth: bool) -> str:
    days = []
    for i in range(7):
        d = today + dt.timedelta(days=i)
        key = d.strftime("%Y%m%d")
        if spec.trades_24h:
            nxt = (d + dt.timedelta(days=1)).strftime("%Y%m%d")
            days.append(f"{key}:0000-{nxt}:0000")
        elif d.weekday() >= 5:
            days.append(f"{key}:CLOSED")
        elif rth or spec.is_option:
            days.append(f"{key}:0930-{key}:1600")
        else:
            days.append(f"{key}:0400-{key}:2000")
    return ";".join(days)


def contract_details(req_id: int, spec: ContractSpec, today: dt.date) -> Fields:
    """contractDetails (10) for a non-bond contract."""
    sec_ids: Fields = [1, "ISIN", spec.isin] if spec.isin else [0]
    market_name = spec.trading_class if spec.sec_type != "CRYPTO" else spec.symbol
    return [
        Out.CONTRACT_DATA,
        req_id,
        spec.symbol,
        spec.sec_type,
        spec.last_trade_date,
        spec.strike,
        spec.right,
        spec.exchange,
        spec.currency,
        spec.local_symbol,
        market_name,
        spec.trading_class,
        spec.con_id,
        spec.min_tick,
        spec.multiplier,
        spec.order_types,
        spec.valid_exchanges,
        1,
        spec.under_con_id,
        spec.long_name,
        spec.primary_exchange,
        spec.contract_month,
        spec.industry,
        spec.category,
        spec.subcategory,
        spec.time_zone,
        _sessions_text(spec, today, rth=False),
        _sessions_text(spec, today, rth=True),
        "",
        "",
        *sec_ids,
        spec.agg_group,
        spec.under_symbol,
        spec.under_sec_type,
        spec.market_rule_ids,
        spec.last_trade_date,
        spec.stock_type,
        spec.min_size,
        spec.size_increment,
        spec.size_increment,
    ]


def contract_details_end(req_id: int) -> Fields:
    """contractDetailsEnd: ``[52, 1, reqId]``."""
    return [Out.CONTRACT_DATA_END, 1, req_id]


def tick_price(
    req_id: int, tick_type: int, price: float, size: float, attr_mask: int = 0
) -> Fields:
    """tickPrice: ``[1, 6, reqId, tickType, price, size, attrMask]``."""
    return [Out.TICK_PRICE, 6, req_id, tick_type, price, size, attr_mask]


def tick_size(req_id: int, tick_type: int, size: float) -> Fields:
    """tickSize: ``[2, 6, reqId, tickType, size]``."""
    return [Out.TICK_SIZE, 6, req_id, tick_type, size]


def tick_string(req_id: int, tick_type: int, value: str) -> Fields:
    """tickString: ``[46, 6, reqId, tickType, value]``."""
    return [Out.TICK_STRING, 6, req_id, tick_type, value]


def tick_req_params(req_id: int, min_tick: float, bbo_exchange: str) -> Fields:
    """tickReqParams: ``[81, reqId, minTick, bboExchange, snapshotPermissions]``."""
    return [Out.TICK_REQ_PARAMS, req_id, min_tick, bbo_exchange, 3]


def market_data_type(req_id: int, data_type: int) -> Fields:
    """marketDataType: ``[58, 1, reqId, type]``."""
    return [Out.MARKET_DATA_TYPE, 1, req_id, data_type]


def tick_snapshot_end(req_id: int) -> Fields:
    """tickSnapshotEnd: ``[57, 1, reqId]``."""
    return [Out.TICK_SNAPSHOT_END, 1, req_id]


def tick_by_tick_last(
    req_id: int, kind: int, t: int, price: float, size: float, exchange: str
) -> Fields:
    """tickByTick Last(1)/AllLast(2)."""
    return [Out.TICK_BY_TICK, req_id, kind, t, price, size, 0, exchange, ""]


def tick_by_tick_bid_ask(
    req_id: int, t: int, bid: float, ask: float, bid_size: float, ask_size: float
) -> Fields:
    """tickByTick BidAsk(3)."""
    return [Out.TICK_BY_TICK, req_id, 3, t, bid, ask, bid_size, ask_size, 0]


def tick_by_tick_mid(req_id: int, t: int, mid: float) -> Fields:
    """tickByTick MidPoint(4)."""
    return [Out.TICK_BY_TICK, req_id, 4, t, mid]


def order_status(order: SimOrder) -> Fields:
    """orderStatus (3), carrying the owning clientId (ib_async matches trades on it)."""
    return [
        Out.ORDER_STATUS,
        order.order_id,
        order.status,
        order.filled,
        order.remaining,
        order.avg_fill_price,
        order.perm_id,
        order.parent_id,
        order.last_fill_price,
        order.client_id,
        order.why_held,
        0.0,
    ]


def _price_or_unset(x: float | None) -> float:
    return UNSET_DOUBLE if x is None else x


def open_order(order: SimOrder) -> Fields:
    """openOrder (5) at v176 (no version field, faProfile still present)."""
    spec = order.spec
    return [
        Out.OPEN_ORDER,
        order.order_id,
        *_contract_short(spec),
        order.action,
        order.total_qty,
        order.order_type,
        _price_or_unset(order.lmt_price),
        _price_or_unset(order.aux_price),
        order.tif,
        order.oca_group,
        order.account,
        "",  # openClose
        0,  # origin
        order.order_ref,
        order.client_id,
        order.perm_id,
        order.outside_rth,
        False,  # hidden
        0.0,  # discretionaryAmt
        "",  # goodAfterTime
        "",  # sharesAllocation (deprecated)
        "",  # faGroup
        "",  # faMethod
        "",  # faPercentage
        "",  # faProfile (< 177)
        "",  # modelCode
        "",  # goodTillDate
        "",  # rule80A
        "",  # percentOffset
        "",  # settlingFirm
        0,  # shortSaleSlot
        "",  # designatedLocation
        -1,  # exemptCode
        0,  # auctionStrategy
        "",  # startingPrice
        "",  # stockRefPrice
        "",  # delta
        "",  # stockRangeLower
        "",  # stockRangeUpper
        "",  # displaySize
        False,  # blockOrder
        False,  # sweepToFill
        False,  # allOrNone
        "",  # minQty
        order.oca_type,
        False,  # eTradeOnly
        False,  # firmQuoteOnly
        "",  # nbboPriceCap
        order.parent_id,
        0,  # triggerMethod
        "",  # volatility
        0,  # volatilityType
        "",  # deltaNeutralOrderType
        "",  # deltaNeutralAuxPrice
        False,  # continuousUpdate
        0,  # referencePriceType
        "",  # trailStopPrice
        "",  # trailingPercent
        "",  # basisPoints
        "",  # basisPointsType
        "",  # comboLegsDescrip
        0,  # comboLegs count
        0,  # orderComboLegs count
        0,  # smartComboRoutingParams count
        "",  # scaleInitLevelSize
        "",  # scaleSubsLevelSize
        "",  # scalePriceIncrement
        "",  # hedgeType
        False,  # optOutSmartRouting
        "",  # clearingAccount
        "",  # clearingIntent
        False,  # notHeld
        False,  # deltaNeutralContract present
        "",  # algoStrategy
        False,  # solicited
        False,  # whatIf
        order.status,
        "",  # initMarginBefore
        "",  # maintMarginBefore
        "",  # equityWithLoanBefore
        "",  # initMarginChange
        "",  # maintMarginChange
        "",  # equityWithLoanChange
        "",  # initMarginAfter
        "",  # maintMarginAfter
        "",  # equityWithLoanAfter
        order.commission if order.commission else UNSET_DOUBLE,
        UNSET_DOUBLE,  # minCommission
        UNSET_DOUBLE,  # maxCommission
        spec.currency,  # commissionCurrency
        "",  # warningText
        False,  # randomizeSize
        False,  # randomizePrice
        0,  # conditions count
        "",  # adjustedOrderType
        UNSET_DOUBLE,  # triggerPrice
        UNSET_DOUBLE,  # trailStopPrice
        UNSET_DOUBLE,  # lmtPriceOffset
        UNSET_DOUBLE,  # adjustedStopPrice
        UNSET_DOUBLE,  # adjustedStopLimitPrice
        UNSET_DOUBLE,  # adjustedTrailingAmount
        0,  # adjustableTrailingUnit
        "",  # softDollarTier name
        "",  # softDollarTier value
        "",  # softDollarTier displayName
        UNSET_DOUBLE,  # cashQty
        False,  # dontUseAutoPriceForHedge
        False,  # isOmsContainer
        False,  # discretionaryUpToLimitPrice
        False,  # usePriceMgmtAlgo
        "",  # duration
        "",  # postToAts
        False,  # autoCancelParent
        "",  # minTradeQty
        "",  # minCompeteSize
        "",  # competeAgainstBestOffset
        "",  # midOffsetAtWhole
        "",  # midOffsetAtHalf
    ]


def open_order_end() -> Fields:
    """openOrderEnd: ``[53, 1]``."""
    return [Out.OPEN_ORDER_END, 1]


def completed_order(order: SimOrder) -> Fields:
    """completedOrder (101) at v176."""
    spec = order.spec
    completed = (
        dt.datetime.fromtimestamp(order.completed_at, NEW_YORK).strftime("%Y%m%d %H:%M:%S")
        + " US/Eastern"
        if order.completed_at
        else ""
    )
    return [
        Out.COMPLETED_ORDER,
        *_contract_short(spec),
        order.action,
        order.total_qty,
        order.order_type,
        _price_or_unset(order.lmt_price),
        _price_or_unset(order.aux_price),
        order.tif,
        order.oca_group,
        order.account,
        "",  # openClose
        0,  # origin
        order.order_ref,
        order.perm_id,
        order.outside_rth,
        False,  # hidden
        0.0,  # discretionaryAmt
        "",  # goodAfterTime
        "",  # faGroup
        "",  # faMethod
        "",  # faPercentage
        "",  # faProfile (< 177)
        "",  # modelCode
        "",  # goodTillDate
        "",  # rule80A
        "",  # percentOffset
        "",  # settlingFirm
        0,  # shortSaleSlot
        "",  # designatedLocation
        -1,  # exemptCode
        "",  # startingPrice
        "",  # stockRefPrice
        "",  # delta
        "",  # stockRangeLower
        "",  # stockRangeUpper
        "",  # displaySize
        False,  # sweepToFill
        False,  # allOrNone
        "",  # minQty
        order.oca_type,
        0,  # triggerMethod
        "",  # volatility
        0,  # volatilityType
        "",  # deltaNeutralOrderType
        "",  # deltaNeutralAuxPrice
        False,  # continuousUpdate
        0,  # referencePriceType
        "",  # trailStopPrice
        "",  # trailingPercent
        "",  # comboLegsDescrip
        0,  # comboLegs count
        0,  # orderComboLegs count
        0,  # smartComboRoutingParams count
        "",  # scaleInitLevelSize
        "",  # scaleSubsLevelSize
        "",  # scalePriceIncrement
        "",  # hedgeType
        "",  # clearingAccount
        "",  # clearingIntent
        False,  # notHeld
        False,  # deltaNeutralContract present
        "",  # algoStrategy
        False,  # solicited
        order.status,
        False,  # randomizeSize
        False,  # randomizePrice
        0,  # conditions count
        UNSET_DOUBLE,  # trailStopPrice
        UNSET_DOUBLE,  # lmtPriceOffset
        UNSET_DOUBLE,  # cashQty
        False,  # dontUseAutoPriceForHedge
        False,  # isOmsContainer
        "",  # autoCancelDate
        order.filled,
        0,  # refFuturesConId
        False,  # autoCancelParent
        "",  # shareholder
        False,  # imbalanceOnly
        False,  # routeMarketableToBbo
        "",  # parentPermId
        completed,
        order.completed_status,
        "",  # minTradeQty
        "",  # minCompeteSize
        "",  # competeAgainstBestOffset
        "",  # midOffsetAtWhole
        "",  # midOffsetAtHalf
    ]


def completed_orders_end() -> Fields:
    """completedOrdersEnd: ``[102]``."""
    return [Out.COMPLETED_ORDERS_END]


def exec_details(req_id: int, ex: Execution) -> Fields:
    """execDetails (11) at v176 (no version field, no pendingPriceRevision)."""
    order = ex.order
    return [
        Out.EXECUTION_DATA,
        req_id,
        order.order_id,
        *_contract_short(order.spec, exchange=ex.exchange),
        ex.exec_id,
        ex.time_text,
        order.account,
        ex.exchange,
        ex.side,
        ex.shares,
        ex.price,
        order.perm_id,
        order.client_id,
        0,  # liquidation
        ex.cum_qty,
        ex.avg_price,
        order.order_ref,
        "",  # evRule
        "",  # evMultiplier
        "",  # modelCode
        2,  # lastLiquidity: removed liquidity
    ]


def exec_details_end(req_id: int) -> Fields:
    """execDetailsEnd: ``[55, 1, reqId]``."""
    return [Out.EXECUTION_DATA_END, 1, req_id]


def commission_report(ex: Execution) -> Fields:
    """commissionReport (59); unset realised P&L and yield as TWS sends them (max double)."""
    return [
        Out.COMMISSION_REPORT,
        1,
        ex.exec_id,
        ex.commission,
        ex.order.spec.currency,
        round(ex.realized_pnl, 4) if ex.realized_pnl is not None else MAX_DOUBLE_TEXT,
        MAX_DOUBLE_TEXT,
        "",
    ]


def position(account: str, spec: ContractSpec, quantity: object, avg_cost: float) -> Fields:
    """position (61), version 3."""
    return [Out.POSITION_DATA, 3, account, *_contract_short(spec), quantity, avg_cost]


def position_end() -> Fields:
    """positionEnd: ``[62, 1]``."""
    return [Out.POSITION_END, 1]


def position_multi(
    req_id: int, account: str, spec: ContractSpec, quantity: object, avg_cost: float
) -> Fields:
    """positionMulti (71)."""
    return [Out.POSITION_MULTI, 1, req_id, account, *_contract_short(spec), quantity, avg_cost, ""]


def position_multi_end(req_id: int) -> Fields:
    """positionMultiEnd: ``[72, 1, reqId]``."""
    return [Out.POSITION_MULTI_END, 1, req_id]


def account_value(key: str, value: str, currency: str, account: str) -> Fields:
    """updateAccountValue (6), version 2."""
    return [Out.ACCT_VALUE, 2, key, value, currency, account]


def portfolio_value(
    spec: ContractSpec,
    quantity: object,
    market_price: float,
    market_value: float,
    avg_cost: float,
    unrealized: float,
    realized: float,
    account: str,
) -> Fields:
    """updatePortfolio (7), version 8."""
    return [
        Out.PORTFOLIO_VALUE,
        8,
        spec.con_id,
        spec.symbol,
        spec.sec_type,
        spec.last_trade_date,
        spec.strike,
        spec.right,
        spec.multiplier,
        spec.primary_exchange,
        spec.currency,
        spec.local_symbol,
        spec.trading_class,
        quantity,
        market_price,
        round(market_value, 2),
        avg_cost,
        round(unrealized, 2),
        round(realized, 2),
        account,
    ]


def account_update_time(t: float) -> Fields:
    """updateAccountTime (8): ``HH:MM``."""
    return [Out.ACCT_UPDATE_TIME, 1, dt.datetime.fromtimestamp(t, NEW_YORK).strftime("%H:%M")]


def account_download_end(account: str) -> Fields:
    """accountDownloadEnd: ``[54, 1, account]``."""
    return [Out.ACCT_DOWNLOAD_END, 1, account]


def account_update_multi(req_id: int, account: str, key: str, value: str, currency: str) -> Fields:
    """accountUpdateMulti (73)."""
    return [Out.ACCOUNT_UPDATE_MULTI, 1, req_id, account, "", key, value, currency]


def account_update_multi_end(req_id: int) -> Fields:
    """accountUpdateMultiEnd: ``[74, 1, reqId]``."""
    return [Out.ACCOUNT_UPDATE_MULTI_END, 1, req_id]


def account_summary(req_id: int, account: str, tag: str, value: str, currency: str) -> Fields:
    """accountSummary (63)."""
    return [Out.ACCOUNT_SUMMARY, 1, req_id, account, tag, value, currency]


def account_summary_end(req_id: int) -> Fields:
    """accountSummaryEnd: ``[64, 1, reqId]``."""
    return [Out.ACCOUNT_SUMMARY_END, 1, req_id]


def historical_data(req_id: int, start: str, end: str, rows: list[Fields]) -> Fields:
    """historicalData (17): no version field from 124; each row date,o,h,l,c,volume,wap,count."""
    out: Fields = [Out.HISTORICAL_DATA, req_id, start, end, len(rows)]
    for row in rows:
        out.extend(row)
    return out


def historical_data_update(
    req_id: int,
    count: int,
    date: str,
    o: float,
    c: float,
    h: float,
    low: float,
    wap: float,
    volume: float,
) -> Fields:
    """historicalDataUpdate (90): note the open, close, high, low order."""
    return [Out.HISTORICAL_DATA_UPDATE, req_id, count, date, o, c, h, low, wap, volume]


def realtime_bar(
    req_id: int,
    t: int,
    o: float,
    h: float,
    low: float,
    c: float,
    volume: float,
    wap: float,
    count: int,
) -> Fields:
    """realtimeBar (50), version 3."""
    return [Out.REAL_TIME_BARS, 3, req_id, t, o, h, low, c, volume, wap, count]


def head_timestamp(req_id: int, stamp: str) -> Fields:
    """headTimestamp: ``[88, reqId, stamp]``."""
    return [Out.HEAD_TIMESTAMP, req_id, stamp]


def sec_def_opt_params(
    req_id: int,
    exchange: str,
    under_con_id: int,
    trading_class: str,
    multiplier: str,
    expirations: list[str],
    strikes: list[float],
) -> Fields:
    """securityDefinitionOptionParameter (75)."""
    return [
        Out.SECURITY_DEFINITION_OPTION_PARAMETER,
        req_id,
        exchange,
        under_con_id,
        trading_class,
        multiplier,
        len(expirations),
        *expirations,
        len(strikes),
        *strikes,
    ]


def sec_def_opt_params_end(req_id: int) -> Fields:
    """securityDefinitionOptionParameterEnd: ``[76, reqId]``."""
    return [Out.SECURITY_DEFINITION_OPTION_PARAMETER_END, req_id]


def symbol_samples(req_id: int, specs: list[tuple[ContractSpec, list[str]]]) -> Fields:
    """symbolSamples (79) with the v176 description and issuerId fields."""
    out: Fields = [Out.SYMBOL_SAMPLES, req_id, len(specs)]
    for spec, derivatives in specs:
        out += [spec.con_id, spec.symbol, spec.sec_type, spec.primary_exchange, spec.currency]
        out += [len(derivatives), *derivatives, spec.long_name, ""]
    return out


def market_rule(rule_id: int, increments: list[tuple[float, float]]) -> Fields:
    """marketRule (93)."""
    out: Fields = [Out.MARKET_RULE, rule_id, len(increments)]
    for low_edge, increment in increments:
        out += [low_edge, increment]
    return out


def pnl(req_id: int, daily: float, unrealized: float, realized: float) -> Fields:
    """pnl (94)."""
    return [Out.PNL, req_id, round(daily, 2), round(unrealized, 2), round(realized, 2)]


def pnl_single(
    req_id: int, pos: object, daily: float, unrealized: float, realized: float, value: float
) -> Fields:
    """pnlSingle (95)."""
    return [
        Out.PNL_SINGLE,
        req_id,
        pos,
        round(daily, 2),
        round(unrealized, 2),
        round(realized, 2),
        round(value, 2),
    ]


def user_info(req_id: int) -> Fields:
    """userInfo (107): an empty white-branding id."""
    return [Out.USER_INFO, req_id, ""]
