"""Historical bars: determinism, sessions, consistency across sizes, parsing, catalog-backed."""

from __future__ import annotations

import datetime as dt

import pytest
from ib_async import Stock

from seraphim.sim.ibkr.contracts import ContractUniverse
from seraphim.sim.ibkr.history import HistoryBuilder
from seraphim.sim.ibkr.history import HistoryRequestError
from seraphim.sim.ibkr.history import parse_bar_size
from seraphim.sim.ibkr.history import parse_duration
from seraphim.sim.ibkr.history import parse_end_time
from seraphim.sim.ibkr.market import Market

from .helpers import WEDNESDAY_NOON
from .helpers import async_test
from .helpers import connect
from .helpers import gateway

AS_OF = dt.date(2025, 3, 12)


def builder(seed: int) -> tuple[HistoryBuilder, ContractUniverse]:
    universe = ContractUniverse.from_config(None, as_of=AS_OF)
    return HistoryBuilder(Market(universe, seed, as_of=AS_OF)), universe


def test_same_seed_same_bars_other_seed_other_bars() -> None:
    (h1, u), (h2, _), (h3, _) = builder(1), builder(1), builder(2)
    aapl = u.get(265598)
    args = (aapl, WEDNESDAY_NOON, 86_400, parse_bar_size("5 mins"), "TRADES", True, WEDNESDAY_NOON)
    assert h1.bars(*args) == h2.bars(*args)
    assert [b.close for b in h1.bars(*args)] != [b.close for b in h3.bars(*args)]


def test_coarse_bars_agree_with_fine_bars() -> None:
    h, u = builder(7)
    msft = u.get(272093)
    end = WEDNESDAY_NOON - 3600  # 11:00 New York
    fine = h.bars(msft, end, 3600, parse_bar_size("1 min"), "TRADES", True, WEDNESDAY_NOON)
    [coarse] = h.bars(msft, end, 3600, parse_bar_size("1 hour"), "TRADES", True, WEDNESDAY_NOON)
    hour = [b for b in fine if b.start >= coarse.start]
    assert len(hour) == 60
    assert coarse.open == hour[0].open and coarse.close == hour[-1].close
    assert coarse.high == max(b.high for b in hour)
    assert coarse.low == min(b.low for b in hour)


def test_regular_and_extended_hours_and_crypto_sessions() -> None:
    h, u = builder(1)
    aapl, btc = u.get(265598), u.get(479624278)
    size = parse_bar_size("1 hour")
    rth = h.bars(
        aapl, WEDNESDAY_NOON + 8 * 3600, 86_400, size, "TRADES", True, WEDNESDAY_NOON + 9 * 3600
    )
    eth = h.bars(
        aapl, WEDNESDAY_NOON + 8 * 3600, 86_400, size, "TRADES", False, WEDNESDAY_NOON + 9 * 3600
    )
    assert len(rth) == 7 and len(eth) == 16
    weekend_end = dt.datetime(2025, 3, 16, 12, tzinfo=dt.UTC).timestamp()
    assert h.bars(aapl, weekend_end, 86_400, size, "TRADES", True, weekend_end) == []
    assert len(h.bars(btc, weekend_end, 86_400, size, "TRADES", True, weekend_end)) == 24


def test_request_parsing() -> None:
    assert parse_bar_size("5 secs").seconds == 5
    assert parse_bar_size("1 min").seconds == 60
    assert parse_bar_size("2 hours").seconds == 7200
    assert parse_bar_size("1W").seconds == 7 * 86_400
    assert parse_bar_size("1M").seconds == 30 * 86_400
    assert parse_duration("3600 S") == 3600 and parse_duration("2 D") == 2 * 86_400
    with pytest.raises(HistoryRequestError):
        parse_bar_size("7 fortnights")
    with pytest.raises(HistoryRequestError):
        parse_duration("10")
    noon_utc = dt.datetime(2025, 3, 12, 12, tzinfo=dt.UTC).timestamp()
    assert parse_end_time("20250312-12:00:00", 0) == noon_utc
    assert parse_end_time("20250312 12:00:00 UTC", 0) == noon_utc
    assert parse_end_time("20250312 08:00:00 US/Eastern", 0) == noon_utc
    assert parse_end_time("", 123.0) == 123.0


@async_test
async def test_invalid_history_requests_get_errors() -> None:
    async with gateway(clock=lambda: WEDNESDAY_NOON) as gw:
        ib = await connect(gw)
        [aapl] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
        codes: list[int] = []
        ib.errorEvent += lambda req_id, code, msg, contract: codes.append(code)
        assert (
            len(await ib.reqHistoricalDataAsync(aapl, "", "1 D", "7 fortnights", "TRADES", True, 2))
            == 0
        )
        assert (
            len(await ib.reqHistoricalDataAsync(aapl, "", "1 D", "1 min", "COLOURS", True, 2)) == 0
        )
        assert codes == [162, 162]
        ts = await ib.reqHeadTimeStampAsync(aapl, "TRADES", True, 2)
        assert ts.year == 2010
        ib.disconnect()


def _write_catalog(path) -> list:
    from nautilus_trader.model.data import Bar
    from nautilus_trader.model.data import BarType
    from nautilus_trader.model.objects import Price
    from nautilus_trader.model.objects import Quantity
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    bar_type = BarType.from_str("AAPL.NASDAQ-1-MINUTE-LAST-EXTERNAL")
    start = int(dt.datetime(2025, 3, 12, 14, 30, tzinfo=dt.UTC).timestamp())  # 10:30 New York
    bars = []
    for i in range(120):
        o = 100.0 + i * 0.1
        ts = (start + 60 * (i + 1)) * 1_000_000_000  # nautilus bars are stamped at their close
        bars.append(
            Bar(
                bar_type,
                Price(o, 2),
                Price(o + 0.5, 2),
                Price(o - 0.25, 2),
                Price(o + 0.1, 2),
                Quantity(1000 + i, 0),
                ts,
                ts,
            )
        )
    ParquetDataCatalog(str(path)).write_data(bars)
    return bars


@async_test
async def test_catalog_bars_drive_history_and_prices(tmp_path) -> None:
    _write_catalog(tmp_path)
    async with gateway(catalog=tmp_path, clock=lambda: WEDNESDAY_NOON + 3600) as gw:
        ib = await connect(gw)
        [aapl, msft] = await ib.qualifyContractsAsync(
            Stock("AAPL", "SMART", "USD"), Stock("MSFT", "SMART", "USD")
        )
        bars = await ib.reqHistoricalDataAsync(
            aapl, "20250312 12:30:00 US/Eastern", "7200 S", "30 mins", "TRADES", True, 2
        )
        # 10:30-12:30 New York from the catalog's 120 one-minute bars, in 30-minute bars.
        assert [b.date.astimezone(dt.UTC).strftime("%H:%M") for b in bars] == [
            "14:30",
            "15:00",
            "15:30",
            "16:00",
        ]
        assert bars[0].open == 100.0 and bars[0].close == pytest.approx(100.0 + 29 * 0.1 + 0.1)
        assert bars[-1].high == pytest.approx(100.0 + 119 * 0.1 + 0.5)
        assert bars[0].volume == sum(1000 + i for i in range(30))
        # Live prices come from the catalog too (replayed), so AAPL trades near 100-112.
        ticker = ib.reqMktData(aapl)
        from .helpers import wait_until

        await wait_until(lambda: ticker.bid > 0)
        assert 99 < ticker.bid < 113
        # MSFT is not in the catalog: it stays on the random walk around its configured price.
        msft_bars = await ib.reqHistoricalDataAsync(msft, "", "3600 S", "5 mins", "TRADES", True, 2)
        assert 300 < msft_bars[-1].close < 550
        ib.disconnect()
