"""
Kraken history into the catalog: ``seraphim catalog ingest kraken`` (the REST API),
``ingest ohlcvt`` (Kraken's downloadable CSVs) and ``ingest kraken-rest`` (saved responses).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC
from datetime import datetime
from pathlib import Path

from nautilus_trader.model.data import BarType
from nautilus_trader.model.instruments import CurrencyPair

from seraphim.adapters.kraken.common.constants import bar_spec_for_interval
from seraphim.adapters.kraken.common.pairs import find_pair
from seraphim.adapters.kraken.common.pairs import instrument_for
from seraphim.adapters.kraken.common.pairs import pair_to_instrument
from seraphim.adapters.kraken.http.client import KrakenHttpClient
from seraphim.adapters.kraken.http.endpoints import KrakenSpotApi
from seraphim.adapters.kraken.loaders.ohlcvt import ohlcvt_rows
from seraphim.adapters.kraken.loaders.ohlcvt import read_ohlcvt
from seraphim.adapters.kraken.loaders.responses import infer_interval_minutes
from seraphim.adapters.kraken.loaders.responses import ohlc_to_bars
from seraphim.adapters.kraken.loaders.responses import read_response
from seraphim.adapters.kraken.loaders.responses import trades_to_ticks
from seraphim.adapters.kraken.parsing import NANOS
from seraphim.catalog.sample import SampleMarket
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


def ingest_kraken_ohlcvt(
    catalog: SeraphimCatalog,
    path: str | Path,
    pair: str,
    interval_minutes: int,
    asset_pairs_file: str | Path | None = None,
    show_progress: bool = False,
    replace: bool = False,
) -> IngestResult:
    """
    Ingest one of Kraken's downloadable OHLCVT CSV files as 'EXTERNAL, LAST' bars.

    Rows that would change stored bars are an error unless ``replace``.
    """
    instrument = instrument_for(pair, asset_pairs_file)
    bar_type = BarType.from_str(
        f"{instrument.id}-{bar_spec_for_interval(interval_minutes)}-EXTERNAL"
    )
    frame = read_ohlcvt(path, show_progress=show_progress)
    rows = ohlcvt_rows(frame, path, instrument, bar_type, interval_minutes * 60)
    source = Provenance("kraken-ohlcvt", details={"file": Path(path).name})
    return catalog.ingest_rows(instrument, [rows], source, replace=replace)


def ingest_kraken_rest(
    catalog: SeraphimCatalog,
    path: str | Path,
    interval_minutes: int | None = None,
    asset_pairs_file: str | Path | None = None,
    replace: bool = False,
) -> IngestResult:
    """
    Ingest a saved /0/public/OHLC (bars) or /0/public/Trades (trade ticks) response.

    Rows that would change stored rows are an error unless ``replace``.
    """
    path = Path(path)
    response = read_response(path)
    instrument = instrument_for(response.pair, asset_pairs_file)
    if response.kind == "ohlc":
        interval = interval_minutes or infer_interval_minutes(response)
        data = ohlc_to_bars(response, instrument, interval, path)
    else:
        data = trades_to_ticks(response, instrument, path)
    source = Provenance(f"kraken-rest-{response.kind}", details={"file": path.name})
    return catalog.ingest(instrument, data, source, replace=replace)


def sample_instruments(market: SampleMarket) -> dict[str, CurrencyPair]:
    """The sample market's pairs as Kraken instruments, labelled synthetic."""
    return {
        asset.pair: instrument_for(asset.pair, info=market.instrument_info())
        for asset in market.assets
    }
