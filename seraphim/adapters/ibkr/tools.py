"""
Operator tools on ib_async, outside any node: a gateway probe, an account snapshot and a
contract lookup. Each connects read-only with its own client id (never the node's) and
returns plain data; ``seraphim ibkr`` (``cli.py``) renders it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import statistics
import time
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from typing import Any

DEFAULT_TOOL_CLIENT_ID = 99
# Farm status messages TWS sends after the API session starts (reqId -1).
FARM_OK = {2104: "market data", 2106: "historical data", 2158: "security definitions"}
FARM_BROKEN = {2103: "market data", 2105: "historical data", 2157: "security definitions"}
FARM_INACTIVE = {2107: "historical data", 2108: "market data"}
FARM_CONNECTING = {2119: "market data"}
NOT_CONNECTED_TO_IB = {1100, 2110}
RESTORED = {1101, 1102}
SUMMARY_TAGS = (
    "NetLiquidation",
    "TotalCashValue",
    "SettledCash",
    "BuyingPower",
    "AvailableFunds",
    "ExcessLiquidity",
    "GrossPositionValue",
    "InitMarginReq",
    "MaintMarginReq",
    "Cushion",
)

OK, DEGRADED, DOWN = "OK", "DEGRADED", "DOWN"
EXIT_CODES = {OK: 0, DEGRADED: 1, DOWN: 2}


class ToolError(Exception):
    """The tool could not get an answer; the message says why."""


@dataclass
class GatewayMessage:
    code: int
    text: str


class _Session:
    """An ib_async connection that records the gateway's system messages."""

    def __init__(self, host: str, port: int, client_id: int, timeout: float) -> None:
        from ib_async import IB

        self.host, self.port, self.client_id, self.timeout = host, port, client_id, timeout
        self.ib = IB()
        self.ib.RaiseRequestErrors = False
        self.messages: list[GatewayMessage] = []
        self.request_errors: list[tuple[int, int, str]] = []
        self.ib.errorEvent += self._on_error

    def _on_error(self, req_id: int, code: int, text: str, contract: Any = None) -> None:
        if req_id == -1:
            self.messages.append(GatewayMessage(code, text))
        else:
            self.request_errors.append((req_id, code, text))

    async def connect(self) -> float:
        """Connect read-only without the startup downloads; returns the seconds it took."""
        from ib_async import util
        from ib_async.ib import StartupFetchNONE

        # ib_async 2.0.1 caches the first event loop it meets (functools.cache on getLoop),
        # which a second asyncio.run in the same process has closed: forget it.
        util.getLoop.cache_clear()
        t0 = time.perf_counter()
        try:
            await self.ib.connectAsync(
                self.host,
                self.port,
                clientId=self.client_id,
                timeout=self.timeout,
                readonly=True,
                fetchFields=StartupFetchNONE,
            )
        except TimeoutError:
            raise ToolError(self._why_no_session("no API session within {:.0f} s")) from None
        except (ConnectionError, OSError) as e:
            if any(m.code == 326 for m in self.messages):
                raise ToolError(
                    f"client id {self.client_id} is already in use at {self.host}:{self.port} "
                    "(give the tool another --client-id)"
                ) from None
            raise ToolError(f"connection to {self.host}:{self.port} failed: {e}") from None
        return time.perf_counter() - t0

    def _why_no_session(self, template: str) -> str:
        if any(m.code == 326 for m in self.messages):
            return (
                f"client id {self.client_id} is already in use (give the tool another --client-id)"
            )
        return (
            template.format(self.timeout)
            + f" at {self.host}:{self.port}: is the API enabled (Configure > Settings > API), "
            "is 127.0.0.1 a trusted IP, and is the gateway logged in?"
        )

    def close(self) -> None:
        if self.ib.isConnected():
            self.ib.disconnect()


def _tcp_connect_ms(host: str, port: int, timeout: float) -> float:
    t0 = time.perf_counter()
    with socket.create_connection((host, port), timeout=timeout):
        pass
    return (time.perf_counter() - t0) * 1000


def _farm_name(text: str) -> str:
    return text.rsplit(":", 1)[-1].strip() if ":" in text else text


@dataclass
class ProbeResult:
    """What ``seraphim ibkr probe`` found, and its verdict."""

    host: str
    port: int
    client_id: int
    verdict: str = DOWN
    reasons: list[str] = field(default_factory=list)
    tcp_ms: float | None = None
    connect_ms: float | None = None
    server_version: int | None = None
    accounts: list[str] = field(default_factory=list)
    farms: dict[str, str] = field(default_factory=dict)
    ib_connected: bool | None = None
    rtt_ms: list[float] = field(default_factory=list)
    server_time: str | None = None
    clock_skew_s: float | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    @property
    def rtt_median_ms(self) -> float | None:
        return statistics.median(self.rtt_ms) if self.rtt_ms else None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["exit_code"] = self.exit_code
        out["rtt_median_ms"] = self.rtt_median_ms
        return out


async def probe(
    host: str = "127.0.0.1",
    port: int = 4002,
    client_id: int = DEFAULT_TOOL_CLIENT_ID,
    *,
    timeout: float = 5.0,
    samples: int = 5,
    max_rtt_ms: float | None = None,
    settle: float = 0.3,
) -> ProbeResult:
    """Connect read-only and judge the gateway: OK, DEGRADED (usable with problems) or DOWN."""
    result = ProbeResult(host, port, client_id)
    try:
        result.tcp_ms = _tcp_connect_ms(host, port, timeout)
    except OSError as e:
        result.reasons.append(f"nothing accepts connections at {host}:{port} ({e.strerror or e})")
        return result
    session = _Session(host, port, client_id, timeout)
    try:
        try:
            result.connect_ms = (await session.connect()) * 1000
        except ToolError as e:
            result.reasons.append(str(e))
            return result
        await asyncio.sleep(settle)  # farm status messages follow the session start
        ib = session.ib
        result.server_version = ib.client.serverVersion()
        result.accounts = list(ib.managedAccounts())
        for _ in range(max(1, samples)):
            t0 = time.perf_counter()
            server_time = await asyncio.wait_for(ib.reqCurrentTimeAsync(), timeout)
            result.rtt_ms.append(round((time.perf_counter() - t0) * 1000, 3))
        result.server_time = server_time.astimezone(dt.UTC).isoformat()
        result.clock_skew_s = round(server_time.timestamp() - time.time(), 1)
    except TimeoutError:
        result.reasons.append(f"the gateway stopped answering (no reply within {timeout:.0f} s)")
        return result
    finally:
        session.close()
    _judge(result, session.messages, max_rtt_ms)
    return result


def _judge(result: ProbeResult, messages: list[GatewayMessage], max_rtt_ms: float | None) -> None:
    result.messages = [asdict(m) for m in messages]
    connected = True
    for m in messages:
        if m.code in FARM_OK:
            result.farms[_farm_name(m.text)] = f"ok ({FARM_OK[m.code]})"
        elif m.code in FARM_BROKEN:
            result.farms[_farm_name(m.text)] = f"BROKEN ({FARM_BROKEN[m.code]})"
        elif m.code in FARM_INACTIVE:
            result.farms[_farm_name(m.text)] = f"inactive, on demand ({FARM_INACTIVE[m.code]})"
        elif m.code in FARM_CONNECTING:
            result.farms[_farm_name(m.text)] = f"connecting ({FARM_CONNECTING[m.code]})"
        elif m.code in NOT_CONNECTED_TO_IB:
            connected = False
        elif m.code in RESTORED:
            connected = True
    result.ib_connected = connected
    problems = []
    if not connected:
        problems.append("the gateway has lost its connection to IB's servers (1100)")
    broken = [name for name, state in result.farms.items() if state.startswith("BROKEN")]
    if broken:
        problems.append(f"data farm(s) broken: {', '.join(broken)}")
    if not result.accounts:
        problems.append("no managed accounts reported (is the gateway logged in?)")
    median = result.rtt_median_ms
    if max_rtt_ms is not None and median is not None and median > max_rtt_ms:
        problems.append(f"round trip {median:.1f} ms is above {max_rtt_ms:.0f} ms")
    result.reasons.extend(problems)
    result.verdict = DEGRADED if problems else OK


@dataclass
class AccountSnapshot:
    """``seraphim ibkr account``: summary values, positions and open orders."""

    accounts: list[str]
    summary: dict[str, dict[str, tuple[str, str]]]  # account -> tag -> (value, currency)
    positions: list[dict[str, Any]]
    open_orders: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _contract_text(c: Any) -> str:
    if c.secType == "OPT":
        return f"{c.localSymbol or c.symbol} OPT"
    where = c.primaryExchange or c.exchange
    return f"{c.localSymbol or c.symbol} {c.secType} {where}".strip()


async def account_snapshot(
    host: str = "127.0.0.1",
    port: int = 4002,
    client_id: int = DEFAULT_TOOL_CLIENT_ID,
    *,
    account: str | None = None,
    timeout: float = 10.0,
) -> AccountSnapshot:
    """Account summary, positions and every API client's open orders (read-only)."""
    session = _Session(host, port, client_id, timeout)
    await session.connect()
    ib = session.ib
    try:
        accounts = list(ib.managedAccounts())
        if account and account not in accounts:
            raise ToolError(
                f"account {account} is not managed here (accounts: {', '.join(accounts)})"
            )
        wanted = [account] if account else accounts
        rows = await asyncio.wait_for(ib.accountSummaryAsync(), timeout)
        summary: dict[str, dict[str, tuple[str, str]]] = {a: {} for a in wanted}
        for row in rows:
            if row.account in summary and row.tag in SUMMARY_TAGS:
                summary[row.account][row.tag] = (row.value, row.currency)
        positions = []
        for p in await asyncio.wait_for(ib.reqPositionsAsync(), timeout):
            if p.account in wanted and p.position != 0:
                positions.append(
                    {
                        "account": p.account,
                        "contract": _contract_text(p.contract),
                        "con_id": p.contract.conId,
                        "quantity": str(p.position),
                        "avg_cost": round(p.avgCost, 6),
                    }
                )
        orders = []
        for trade in await asyncio.wait_for(ib.reqAllOpenOrdersAsync(), timeout):
            o, s = trade.order, trade.orderStatus
            if o.account and o.account not in wanted:
                continue
            orders.append(
                {
                    "account": o.account,
                    "client_id": o.clientId,
                    "order_id": o.orderId,
                    "perm_id": o.permId,
                    "order_ref": o.orderRef,
                    "contract": _contract_text(trade.contract),
                    "action": o.action,
                    "quantity": str(o.totalQuantity),
                    "type": o.orderType,
                    "limit": None if o.lmtPrice in (None, 0) or o.lmtPrice > 1e300 else o.lmtPrice,
                    "stop": None if o.auxPrice in (None, 0) or o.auxPrice > 1e300 else o.auxPrice,
                    "tif": o.tif,
                    "status": s.status,
                    "filled": str(s.filled),
                    "remaining": str(s.remaining),
                }
            )
        return AccountSnapshot(wanted, summary, positions, orders)
    finally:
        session.close()


@dataclass
class ContractLookup:
    """``seraphim ibkr contract``: the qualified contract or the candidates."""

    query: dict[str, Any]
    details: list[dict[str, Any]]
    error: str | None = None

    @property
    def unique(self) -> bool:
        return len(self.details) == 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def nautilus_instrument_id(contract: Any) -> str | None:
    """The id nautilus's IB adapter gives this contract (simplified symbology)."""
    from nautilus_trader.adapters.interactive_brokers.common import IBContract
    from nautilus_trader.adapters.interactive_brokers.parsing.instruments import (
        ib_contract_to_instrument_id,
    )

    venue = contract.primaryExchange if contract.exchange == "SMART" else contract.exchange
    if not venue:
        venue = contract.exchange
    try:
        ib_contract = IBContract(
            secType=contract.secType,
            conId=contract.conId,
            exchange=contract.exchange,
            primaryExchange=contract.primaryExchange,
            symbol=contract.symbol,
            localSymbol=contract.localSymbol,
            currency=contract.currency,
            tradingClass=contract.tradingClass,
            lastTradeDateOrContractMonth=contract.lastTradeDateOrContractMonth,
            multiplier=contract.multiplier,
            strike=contract.strike,
            right=contract.right,
        )
        return str(ib_contract_to_instrument_id(ib_contract, venue))
    except Exception:
        return None


async def lookup_contract(
    symbol: str,
    host: str = "127.0.0.1",
    port: int = 4002,
    client_id: int = DEFAULT_TOOL_CLIENT_ID,
    *,
    sec_type: str = "STK",
    exchange: str = "SMART",
    primary_exchange: str = "",
    currency: str = "USD",
    expiry: str = "",
    strike: float = 0.0,
    right: str = "",
    con_id: int = 0,
    timeout: float = 10.0,
) -> ContractLookup:
    """reqContractDetails for a partial contract: one match qualifies it, several are listed."""
    from ib_async import Contract

    query = Contract(
        secType=sec_type.upper(),
        conId=con_id,
        symbol=symbol.upper(),
        exchange=exchange.upper(),
        primaryExchange=primary_exchange.upper(),
        currency=currency.upper(),
        lastTradeDateOrContractMonth=expiry,
        strike=strike,
        right=right.upper(),
    )
    session = _Session(host, port, client_id, timeout)
    await session.connect()
    try:
        details = await asyncio.wait_for(session.ib.reqContractDetailsAsync(query), timeout)
    finally:
        session.close()
    query_fields = {
        k: v
        for k, v in {
            "symbol": query.symbol,
            "secType": query.secType,
            "exchange": query.exchange,
            "primaryExchange": query.primaryExchange,
            "currency": query.currency,
            "expiry": expiry,
            "strike": strike or None,
            "right": query.right,
            "conId": con_id or None,
        }.items()
        if v
    }
    out = []
    for d in details:
        c = d.contract
        out.append(
            {
                "con_id": c.conId,
                "symbol": c.symbol,
                "sec_type": c.secType,
                "local_symbol": c.localSymbol,
                "exchange": c.exchange,
                "primary_exchange": c.primaryExchange,
                "currency": c.currency,
                "trading_class": c.tradingClass,
                "expiry": c.lastTradeDateOrContractMonth,
                "strike": c.strike or None,
                "right": c.right,
                "multiplier": c.multiplier,
                "long_name": d.longName,
                "industry": d.industry,
                "category": d.category,
                "min_tick": d.minTick,
                "min_size": str(d.minSize),
                "size_increment": str(d.sizeIncrement),
                "isin": next((t.value for t in d.secIdList or [] if t.tag == "ISIN"), None),
                "time_zone": d.timeZoneId,
                "trading_hours": (d.tradingHours or "").split(";")[:2],
                "liquid_hours": (d.liquidHours or "").split(";")[:2],
                "valid_exchanges": d.validExchanges,
                "order_types": d.orderTypes,
                "market_rule_ids": d.marketRuleIds,
                "nautilus_instrument_id": nautilus_instrument_id(c),
            }
        )
    error = None
    if not out:
        codes = [f"{code}: {text}" for _, code, text in session.request_errors]
        error = "; ".join(codes) or "no contract matches"
    return ContractLookup(query_fields, out, error)
