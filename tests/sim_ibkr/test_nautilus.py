"""nautilus's Interactive Brokers adapter (instrument provider, historical client) end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from seraphim.sim.ibkr import ThreadedGateway

from .helpers import WEDNESDAY_NOON
from .helpers import config

PROBE = Path(__file__).with_name("nautilus_probe.py")


def test_nautilus_loads_instruments_and_downloads_bars() -> None:
    # Friday 2025-03-14 after the close, so the three requested days are complete.
    with ThreadedGateway(config(clock=lambda: WEDNESDAY_NOON + 2 * 86_400 + 6 * 3600)) as gw:
        out = subprocess.run(
            [sys.executable, str(PROBE), str(gw.port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert out.returncode == 0, out.stderr[-2000:]
        result = json.loads(out.stdout.strip().splitlines()[-1])
    instruments = {i["id"]: i for i in result["instruments"]}
    assert instruments["AAPL.NASDAQ"]["type"] == "Equity"
    assert instruments["AAPL.NASDAQ"]["isin"] == "US0378331005"
    assert instruments["SPY.ARCA"]["isin"] == "US78462F1030"
    assert instruments["BTC/USD.PAXOS"]["price_increment"] == "0.25"
    hourly = [b for b in result["bars"] if "1-HOUR" in b["type"]]
    daily = [b for b in result["bars"] if "1-DAY" in b["type"]]
    assert len(daily) == 3  # Wednesday to Friday
    assert len(hourly) == 3 * 7  # 09:30, 10:00 ... 15:00 each day
    assert all(
        b["low"] <= b["open"] <= b["high"] and b["low"] <= b["close"] <= b["high"] for b in hourly
    )
    # The daily bar spans the same session as that day's hourly bars.
    last_day = hourly[-7:]
    assert daily[-1]["open"] == last_day[0]["open"]
    assert daily[-1]["close"] == last_day[-1]["close"]
    assert daily[-1]["high"] == max(b["high"] for b in last_day)
