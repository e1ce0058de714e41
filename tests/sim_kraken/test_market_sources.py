"""Market sources: replayed bars and trades drive the book and fill resting client orders;
the random walk is deterministic under a seed."""

from __future__ import annotations

from decimal import Decimal

from seraphim.sim.kraken import KrakenSimServer
from seraphim.sim.kraken.market import Bar
from seraphim.sim.kraken.market import BarReplaySource
from seraphim.sim.kraken.market import TradeReplaySource

from .helpers import make_config
from .helpers import run
from .helpers import sim_and_client


def test_bar_replay_fills_a_resting_bid_as_maker_when_the_low_trades_through() -> None:
    bars = [
        Bar(0, Decimal(100), Decimal(101), Decimal(99), Decimal(100), Decimal(4)),
        Bar(60, Decimal(100), Decimal(100), Decimal(90), Decimal(95), Decimal(4)),
    ]
    source = BarReplaySource(bars, interval=4.0)

    async def body():
        async with sim_and_client(pairs=["ETH/USD"], sources={"ETH/USD": source}) as (sim, client):
            (txid,) = (
                await client.ok(
                    "AddOrder",
                    pair="ETHUSD",
                    type="buy",
                    ordertype="limit",
                    price="92.00",
                    volume="0.5",
                )
            )["txid"]
            await sim.advance(4)  # first bar
            assert (await client.ok("QueryOrders", txid=txid))[txid]["status"] == "open"
            await sim.advance(4)  # second bar goes down to 90
            order = (await client.ok("QueryOrders", txid=txid, trades="true"))[txid]
            assert order["status"] == "closed" and order["price"] == "92.000"
            fill = (await client.ok("QueryTrades", txid=order["trades"][0]))[order["trades"][0]]
            assert fill["maker"] is True and fill["price"] == "92.00000"
            assert fill["fee"] == "0.11500"  # 46 * 0.25% maker
            tape = sim.exchange.tape[sim.exchange.find_pair("ETHUSD").key]
            assert [t.price for t in tape][:4] == [100, 99, 101, 100]

    run(body())


def test_ohlcvt_csv_and_recorded_trades_load(shared_data) -> None:
    bars = BarReplaySource.from_ohlcvt_csv(
        shared_data / "kraken/ohlcvt/XBTUSD_60.csv", limit=3, interval=1.0
    )
    trades = TradeReplaySource.from_trades_response(
        shared_data / "kraken/rest/trades.json", interval=0.5
    )

    async def body():
        for source, n in ((bars, 12), (trades, 10)):
            config = make_config(pairs=["BTC/USD"], sources={"BTC/USD": source}, accounts=[])
            async with KrakenSimServer(config) as sim:
                for _ in range(10):
                    await sim.advance(0.5)
                assert len(sim.exchange.tape["XXBTZUSD"]) >= n - 2
                book = sim.exchange.books["XXBTZUSD"]
                last = sim.exchange.last_price["XXBTZUSD"]
                assert book.bids.best() <= last <= book.asks.best() + 1

    run(body())


def test_random_walk_is_deterministic_under_a_seed() -> None:
    async def tape(seed: int) -> list:
        config = make_config(sources={}, seed=seed, accounts=[])
        async with KrakenSimServer(config) as sim:
            for _ in range(30):
                await sim.advance(1)
            key = "XXBTZUSD"
            # The market is a function of the seed; order ids are not (they never repeat).
            return [(t.price, t.qty, t.side) for t in sim.exchange.tape[key]] + [
                sim.exchange.books[key].checksum()
            ]

    async def body():
        a, b, c = await tape(7), await tape(7), await tape(8)
        assert a == b and a != c and len(a) > 10

    run(body())


def test_cli_history_gives_a_strategy_its_warm_up_bars() -> None:
    """`seraphim sim kraken --history 96` (the default): enough hourly candles for the demo's
    60-bar average, so a node trades without waiting days."""
    from seraphim.sim.kraken.cli import history_walk

    async def body():
        walk = history_walk(96)
        async with sim_and_client(pairs=["BTC/USD"], sources={}, random_walk=walk) as (_, client):
            result = (await client.public("OHLC", pair="XBTUSD", interval="60"))["result"]
            rows = next(v for k, v in result.items() if k != "last")
            committed = [row for row in rows if row[0] <= result["last"]]
            assert 94 <= len(committed) <= 97

    run(body())
