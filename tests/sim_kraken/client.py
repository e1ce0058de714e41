"""
A plain Kraken Spot client written from Kraken's public documentation (not from the simulator's
code): signed REST calls and a WebSocket v2 client whose book verifies CRC32 checksums.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import urllib.parse
import zlib
from decimal import Decimal
from typing import Any

import aiohttp

TEST_SECRET = base64.b64encode(b"seraphim-test-secret-" * 3).decode()


def docs_sign(uri_path: str, postdata: str, nonce: int | str, secret_b64: str) -> str:
    """The signature exactly as Kraken's REST authentication guide spells it out."""
    sha = hashlib.sha256((str(nonce) + postdata).encode()).digest()
    mac = hmac.new(base64.b64decode(secret_b64), uri_path.encode() + sha, hashlib.sha512)
    return base64.b64encode(mac.digest()).decode()


class RestClient:
    """Kraken REST over aiohttp, as a user would write it."""

    def __init__(
        self, session: aiohttp.ClientSession, base: str, key: str = "", secret: str = ""
    ) -> None:
        self.session, self.base, self.key, self.secret = session, base, key, secret
        self.nonce = 1_700_000_000_000

    async def public(self, method: str, **params: Any) -> dict:
        """GET /0/public/<method>."""
        async with self.session.get(f"{self.base}/0/public/{method}", params=params) as r:
            return await r.json()

    def next_nonce(self) -> int:
        """Ever-increasing nonce."""
        self.nonce += 1
        return self.nonce

    async def private_raw(
        self,
        method: str,
        params: dict[str, Any],
        *,
        nonce: int | None = None,
        key: str | None = None,
        sign: str | None = None,
        as_json: bool = False,
    ) -> aiohttp.ClientResponse:
        """POST /0/private/<method> signed per the docs; parts overridable to test rejection."""
        nonce = self.next_nonce() if nonce is None else nonce
        body_params = {"nonce": str(nonce), **{k: str(v) for k, v in params.items()}}
        if as_json:
            body = json.dumps({"nonce": str(nonce), **params})
            ctype = "application/json"
        else:
            body = urllib.parse.urlencode(body_params)
            ctype = "application/x-www-form-urlencoded"
        path = f"/0/private/{method}"
        headers = {
            "API-Key": self.key if key is None else key,
            "API-Sign": sign if sign is not None else docs_sign(path, body, nonce, self.secret),
            "Content-Type": ctype,
        }
        return await self.session.post(self.base + path, data=body, headers=headers)

    async def private(self, method: str, **params: Any) -> dict:
        """A signed call's JSON envelope."""
        async with await self.private_raw(method, params) as r:
            return await r.json()

    async def private_json(self, method: str, **params: Any) -> dict:
        """A signed call with a JSON body (AmendOrder)."""
        async with await self.private_raw(method, params, as_json=True) as r:
            return await r.json()

    async def ok(self, method: str, **params: Any) -> Any:
        """The result of a private call that must succeed."""
        reply = await self.private(method, **params)
        assert reply["error"] == [], reply
        return reply["result"]


class WsClient:
    """A WebSocket v2 connection that keeps every message it receives."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.messages: list[dict] = []
        self._seen = 0
        self._req = 0

    @classmethod
    async def connect(cls, session: aiohttp.ClientSession, url: str) -> WsClient:
        """Open a connection."""
        return cls(await session.ws_connect(url, autoping=True))

    async def _pump(self, timeout: float) -> bool:
        try:
            msg = await asyncio.wait_for(self.ws.receive(), timeout)
        except TimeoutError:
            return False
        if msg.type != aiohttp.WSMsgType.TEXT:
            raise ConnectionError(f"connection closed: {msg.type}")
        self.messages.append(json.loads(msg.data))
        return True

    async def wait_for(self, predicate, timeout: float = 3.0) -> dict:
        """The first not-yet-consumed message matching ``predicate``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for i in range(self._seen, len(self.messages)):
                if predicate(self.messages[i]):
                    return self.messages[i]
            remaining = deadline - loop.time()
            if remaining <= 0 or not await self._pump(remaining):
                raise TimeoutError(f"no matching message; last: {self.messages[-3:]}")

    async def collect(self, predicate, count: int, timeout: float = 5.0) -> list[dict]:
        """Wait until ``count`` messages match; return them all."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = [m for m in self.messages if predicate(m)]
            if len(found) >= count:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0 or not await self._pump(remaining):
                raise TimeoutError(f"{len(found)} of {count} messages")

    async def drain(self, seconds: float = 0.05) -> None:
        """Read whatever arrives within ``seconds``."""
        while await self._pump(seconds):
            pass

    async def request(self, method: str, params: dict | None = None) -> dict:
        """Send a request and wait for its response (matched by req_id)."""
        self._req += 1
        req_id = self._req
        message: dict[str, Any] = {"method": method, "req_id": req_id}
        if params is not None:
            message["params"] = params
        await self.ws.send_str(json.dumps(message))
        return await self.wait_for(lambda m: m.get("req_id") == req_id and "method" in m)

    async def responses(self, req_id: int, count: int) -> list[dict]:
        """Several responses to one request."""
        return await self.collect(lambda m: m.get("req_id") == req_id and "method" in m, count)


class CheckedBook:
    """A v2 book kept per Kraken's book guide; ``apply`` returns whether the checksum matched."""

    def __init__(self, depth: int, price_precision: int, qty_precision: int) -> None:
        self.depth, self.pp, self.qp = depth, price_precision, qty_precision
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}

    def apply(self, entry: dict) -> bool:
        """Apply a snapshot/update entry; True when its checksum matches the local book."""
        for side, book in (("bids", self.bids), ("asks", self.asks)):
            for level in entry[side]:
                price, qty = Decimal(str(level["price"])), Decimal(str(level["qty"]))
                if qty == 0:
                    book.pop(price, None)
                else:
                    book[price] = qty
        for key in sorted(self.bids, reverse=True)[self.depth :]:
            del self.bids[key]
        for key in sorted(self.asks)[self.depth :]:
            del self.asks[key]
        return self.checksum() == entry["checksum"]

    def checksum(self) -> int:
        """CRC32 of the top 10 asks then bids, fixed precision, point and leading zeros gone."""

        def fmt(value: Decimal, places: int) -> str:
            return f"{value:.{places}f}".replace(".", "").lstrip("0")

        text = ""
        for price in sorted(self.asks)[:10]:
            text += fmt(price, self.pp) + fmt(self.asks[price], self.qp)
        for price in sorted(self.bids, reverse=True)[:10]:
            text += fmt(price, self.pp) + fmt(self.bids[price], self.qp)
        return zlib.crc32(text.encode())
