"""Run nautilus's own IB clients against a gateway port and print what they saw as JSON.

Executed in a subprocess by test_nautilus.py: nautilus's logging may be initialised only
once per process, so this keeps it away from other tests.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys

from nautilus_trader.adapters.interactive_brokers.common import IBContract
from nautilus_trader.adapters.interactive_brokers.historical.client import (
    HistoricInteractiveBrokersClient,
)
from nautilus_trader.model.identifiers import InstrumentId


async def probe(port: int) -> dict:
    client = HistoricInteractiveBrokersClient(port=port, client_id=5, log_level="ERROR")
    await client.connect()
    instruments = await client.request_instruments(
        instrument_ids=[InstrumentId.from_str("AAPL.NASDAQ"), InstrumentId.from_str("SPY.ARCA")],
        contracts=[IBContract(secType="CRYPTO", symbol="BTC", exchange="PAXOS", currency="USD")],
    )
    bars = await client.request_bars(
        bar_specifications=["1-HOUR-LAST", "1-DAY-LAST"],
        end_date_time=dt.datetime(2025, 3, 14, 21, 0),
        tz_name="UTC",
        duration="3 D",
        instrument_ids=["AAPL.NASDAQ"],
        use_rth=True,
    )
    client._client.stop()
    await asyncio.sleep(0.2)
    return {
        "instruments": [
            {
                "id": str(i.id),
                "type": type(i).__name__,
                "isin": getattr(i, "isin", None),
                "price_increment": str(i.price_increment),
            }
            for i in instruments
        ],
        "bars": [
            {
                "type": str(b.bar_type),
                "open": b.open.as_double(),
                "high": b.high.as_double(),
                "low": b.low.as_double(),
                "close": b.close.as_double(),
                "ts_event": b.ts_event,
            }
            for b in bars
        ],
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(probe(int(sys.argv[1])))))
