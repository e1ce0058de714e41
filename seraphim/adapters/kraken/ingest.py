"""``seraphim catalog ingest kraken``: history from Kraken's REST API into the catalog."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC
from datetime import datetime

from nautilus_trader.model.data import BarType

from seraphim.adapters.kraken.constants import bar_spec_for_interval
from seraphim.adapters.kraken.http.client import KrakenHttpClient
from seraphim.adapters.kraken.http.endpoints import KrakenSpotApi
from seraphim.adapters.kraken.pairs import find_pair
from seraphim.adapters.kraken.pairs import pair_to_instrument
from seraphim.adapters.kraken.parsing import NANOS
from seraphim.catalog.store import IngestResult
from seraphim.catalog.store import Provenance
from seraphim.catalog.store import SeraphimCatalog


def parse_time(text: str | None) -> int | None:
    """ISO date/time (UTC when no zone) or UNIX seconds -> nanoseconds."""
    if text is None or text == "":
        return None
    text = text.strip()
    try:
        return int(float(text) * NANOS)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"cannot read the time {text!r} (use 2024-05-01, 2024-05-01T12:00 or UNIX seconds)"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp()) * NANOS + dt.microsecond * 1000


async def download(
    pair: str,
    interval: int,
    since_ns: int,
    until_ns: int | None,
    *,
    trades: bool,
    rest_url: str,
    max_pages: int,
    progress=None,
):
    """(instrument, data, details) downloaded through the adapter's REST client."""
    from seraphim.adapters.kraken.history import download_bars
    from seraphim.adapters.kraken.history import download_trades

    client = KrakenHttpClient(rest_url, public_rate=0 if "127.0.0.1" in rest_url else 1.0)
    api = KrakenSpotApi(client)
    try:
        key, asset_pair = find_pair(await api.asset_pairs(), pair)
        instrument = pair_to_instrument(key, asset_pair)
        if trades:
            data = await download_trades(
                api, instrument, key, since_ns, until_ns, max_pages=max_pages, progress=progress
            )
            return instrument, data, {"trades": len(data)}
        bar_type = BarType.from_str(f"{instrument.id}-{bar_spec_for_interval(interval)}-EXTERNAL")
        bars, from_trades = await download_bars(
            api,
            instrument,
            key,
            bar_type,
            since_ns,
            until_ns,
            now_ns=time.time_ns(),
            max_trade_pages=max_pages,
            progress=progress,
        )
        return instrument, bars, {"interval": interval, "from_trades": from_trades}
    finally:
        await client.close()


def ingest_from_kraken(
    catalog: SeraphimCatalog,
    pair: str,
    interval: int,
    since: str,
    until: str | None = None,
    *,
    trades: bool = False,
    rest_url: str = "https://api.kraken.com",
    max_pages: int = 50,
    progress=None,
) -> IngestResult:
    """Download bars (or trade ticks) for a pair and merge them into the catalog atomically."""
    bar_spec_for_interval(interval)  # validates the interval
    since_ns = parse_time(since)
    until_ns = parse_time(until)
    if since_ns is None:
        raise ValueError("--since is required")
    instrument, data, details = asyncio.run(
        download(
            pair,
            interval,
            since_ns,
            until_ns,
            trades=trades,
            rest_url=rest_url,
            max_pages=max_pages,
            progress=progress,
        )
    )
    source = Provenance(
        "kraken-api-trades" if trades else "kraken-api-ohlc",
        details={"rest_url": rest_url, "since": since, **details},
    )
    return catalog.ingest(instrument, data, source)
