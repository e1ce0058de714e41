"""Typed wrappers of the Kraken Spot REST methods the adapter uses."""

from __future__ import annotations

from typing import Any

from seraphim.adapters.kraken.common.errors import KrakenApiError
from seraphim.adapters.kraken.common.pairs import KrakenAssetPair
from seraphim.adapters.kraken.http.client import KrakenHttpClient
from seraphim.adapters.kraken.http.client import decode
from seraphim.adapters.kraken.schemas.rest import AddOrderResult
from seraphim.adapters.kraken.schemas.rest import AmendOrderResult
from seraphim.adapters.kraken.schemas.rest import BalanceEx
from seraphim.adapters.kraken.schemas.rest import CancelResult
from seraphim.adapters.kraken.schemas.rest import ClosedOrders
from seraphim.adapters.kraken.schemas.rest import DepthBook
from seraphim.adapters.kraken.schemas.rest import OhlcResult
from seraphim.adapters.kraken.schemas.rest import OhlcRow
from seraphim.adapters.kraken.schemas.rest import OpenOrders
from seraphim.adapters.kraken.schemas.rest import OrderInfo
from seraphim.adapters.kraken.schemas.rest import ServerTime
from seraphim.adapters.kraken.schemas.rest import SystemStatus
from seraphim.adapters.kraken.schemas.rest import TickerInfo
from seraphim.adapters.kraken.schemas.rest import TradeInfo
from seraphim.adapters.kraken.schemas.rest import TradeRow
from seraphim.adapters.kraken.schemas.rest import TradesHistory
from seraphim.adapters.kraken.schemas.rest import TradesResult
from seraphim.adapters.kraken.schemas.rest import WebSocketsToken


class KrakenSpotApi:
    """Kraken Spot REST methods returning msgspec Structs."""

    def __init__(self, client: KrakenHttpClient) -> None:
        self.client = client

    # ------------------------------------------------------------------ public

    async def server_time(self) -> ServerTime:
        return decode(await self.client.public("Time"), ServerTime, "Time")

    async def system_status(self) -> SystemStatus:
        return decode(await self.client.public("SystemStatus"), SystemStatus, "SystemStatus")

    async def asset_pairs(self, pairs: list[str] | None = None) -> dict[str, KrakenAssetPair]:
        params = {"pair": ",".join(pairs)} if pairs else None
        raw = await self.client.public("AssetPairs", params)
        return decode(raw, dict[str, KrakenAssetPair], "AssetPairs")

    async def ticker(self, pairs: list[str] | None = None) -> dict[str, TickerInfo]:
        params = {"pair": ",".join(pairs)} if pairs else None
        return decode(await self.client.public("Ticker", params), dict[str, TickerInfo], "Ticker")

    async def ohlc(
        self, pair: str, interval: int, since: int | None = None
    ) -> tuple[str, list[OhlcRow], int]:
        """(pair key, rows, last); the last row is the forming candle."""
        raw = await self.client.public("OHLC", {"pair": pair, "interval": interval, "since": since})
        result = decode(raw, OhlcResult, "OHLC")
        last = int(result.pop("last", 0))  # type: ignore[arg-type]
        ((key, rows),) = result.items() if result else (("", []),)
        return key, rows, last  # type: ignore[return-value]

    async def trades(
        self, pair: str, since: int | None = None, count: int | None = None
    ) -> tuple[str, list[TradeRow], int]:
        """(pair key, rows, last) where ``last`` is a nanosecond cursor usable as ``since``."""
        raw = await self.client.public("Trades", {"pair": pair, "since": since, "count": count})
        result = decode(raw, TradesResult, "Trades")
        last = int(result.pop("last", 0))  # type: ignore[arg-type]
        ((key, rows),) = result.items() if result else (("", []),)
        return key, rows, last  # type: ignore[return-value]

    async def depth(self, pair: str, count: int = 100) -> DepthBook:
        raw = await self.client.public("Depth", {"pair": pair, "count": count})
        books = decode(raw, dict[str, DepthBook], "Depth")
        return next(iter(books.values()))

    # ------------------------------------------------------------------ private: account

    async def balance(self) -> dict[str, str]:
        return decode(await self.client.private("Balance"), dict[str, str], "Balance")

    async def balance_ex(self) -> dict[str, BalanceEx]:
        return decode(await self.client.private("BalanceEx"), dict[str, BalanceEx], "BalanceEx")

    async def websockets_token(self) -> WebSocketsToken:
        raw = await self.client.private("GetWebSocketsToken")
        return decode(raw, WebSocketsToken, "GetWebSocketsToken")

    # ------------------------------------------------------------------ private: orders

    async def open_orders(
        self, *, cl_ord_id: str | None = None, userref: int | None = None, trades: bool = True
    ) -> dict[str, OrderInfo]:
        params = {"trades": trades, "cl_ord_id": cl_ord_id, "userref": userref}
        raw = await self.client.private("OpenOrders", params)
        return decode(raw, OpenOrders, "OpenOrders").open

    async def closed_orders(
        self,
        *,
        start: float | None = None,
        end: float | None = None,
        cl_ord_id: str | None = None,
        ofs: int | None = None,
        trades: bool = True,
    ) -> ClosedOrders:
        params = {"trades": trades, "start": start, "end": end, "cl_ord_id": cl_ord_id, "ofs": ofs}
        return decode(await self.client.private("ClosedOrders", params), ClosedOrders, "Closed")

    async def closed_orders_all(
        self, *, start: float | None = None, max_pages: int = 20, **kwargs: Any
    ) -> dict[str, OrderInfo]:
        """Every closed order since ``start`` (pages of 50, newest first)."""
        out: dict[str, OrderInfo] = {}
        ofs = 0
        for _ in range(max_pages):
            page = await self.closed_orders(start=start, ofs=ofs, **kwargs)
            out.update(page.closed)
            ofs += len(page.closed)
            if not page.closed or ofs >= page.count:
                break
        return out

    async def query_orders(self, txids: list[str], trades: bool = True) -> dict[str, OrderInfo]:
        raw = await self.client.private("QueryOrders", {"txid": ",".join(txids), "trades": trades})
        return decode(raw, dict[str, OrderInfo], "QueryOrders")

    async def trades_history(
        self, *, start: float | None = None, ofs: int | None = None
    ) -> TradesHistory:
        raw = await self.client.private("TradesHistory", {"start": start, "ofs": ofs})
        return decode(raw, TradesHistory, "TradesHistory")

    async def trades_history_all(
        self, *, start: float | None = None, max_pages: int = 20
    ) -> dict[str, TradeInfo]:
        """Every own trade since ``start`` (pages of 50, newest first)."""
        out: dict[str, TradeInfo] = {}
        ofs = 0
        for _ in range(max_pages):
            page = await self.trades_history(start=start, ofs=ofs)
            out.update(page.trades)
            ofs += len(page.trades)
            if not page.trades or ofs >= page.count:
                break
        return out

    async def query_trades(self, txids: list[str]) -> dict[str, TradeInfo]:
        raw = await self.client.private("QueryTrades", {"txid": ",".join(txids)})
        return decode(raw, dict[str, TradeInfo], "QueryTrades")

    async def add_order(self, params: dict[str, Any]) -> AddOrderResult:
        return decode(await self.client.private("AddOrder", params), AddOrderResult, "AddOrder")

    async def amend_order(self, params: dict[str, Any]) -> AmendOrderResult:
        raw = await self.client.private("AmendOrder", params)
        return decode(raw, AmendOrderResult, "AmendOrder")

    async def cancel_order(self, txid: str | int) -> CancelResult:
        raw = await self.client.private("CancelOrder", {"txid": txid})
        return decode(raw, CancelResult, "CancelOrder")

    async def cancel_all(self) -> CancelResult:
        return decode(await self.client.private("CancelAll"), CancelResult, "CancelAll")


def require_single(rows: dict[str, Any], what: str) -> Any:
    """The only value of a one-entry result."""
    if len(rows) != 1:
        raise KrakenApiError([f"EGeneral:expected one {what}, got {len(rows)}"])
    return next(iter(rows.values()))
