"""The local exchange's bar replay: nautilus's O, H, L, C path, locked book, lockstep steps."""

from decimal import Decimal

from seraphim.parity.live import lockstep_steps
from seraphim.sim.kraken import AccountConfig
from seraphim.sim.kraken import SimConfig
from seraphim.sim.kraken.accounts import OrderRequest
from seraphim.sim.kraken.bar_path import BarPathSource
from seraphim.sim.kraken.bar_path import bar_prints
from seraphim.sim.kraken.clock import ManualClock
from seraphim.sim.kraken.market import Bar
from seraphim.sim.kraken.server import KrakenSimServer

HOUR = 3600.0
T0 = 1_700_000_000.0 - 1_700_000_000.0 % HOUR  # an hour boundary


def bars() -> list[Bar]:
    # Stamped at their close, as the catalog stores them; the second hour is missing (a gap).
    return [
        Bar(
            T0 + HOUR,
            Decimal("100.0"),
            Decimal("105.0"),
            Decimal("99.0"),
            Decimal("101.0"),
            Decimal("8"),
        ),
        Bar(
            T0 + 3 * HOUR,
            Decimal("102.0"),
            Decimal("103.0"),
            Decimal("95.0"),
            Decimal("96.0"),
            Decimal("4"),
        ),
    ]


def test_prints_follow_nautilus_bar_order_from_the_open_time():
    prints = bar_prints(bars(), HOUR)
    assert [(p.at - T0, p.price) for p in prints] == [
        (0, Decimal("100.0")),
        (900, Decimal("105.0")),
        (1800, Decimal("99.0")),
        (2700, Decimal("101.0")),
        (2 * HOUR, Decimal("102.0")),
        (2 * HOUR + 900, Decimal("103.0")),
        (2 * HOUR + 1800, Decimal("95.0")),
        (2 * HOUR + 2700, Decimal("96.0")),
        (3 * HOUR, Decimal("96.0")),  # completes the last candle
    ]
    # An open leaves the book at the previous close (the client's reaction fills there).
    assert [p.move_book for p in prints] == [
        False,
        True,
        True,
        True,
        False,
        True,
        True,
        True,
        False,
    ]
    assert prints[1].qty == Decimal(2)


def test_lockstep_steps_count_the_bars_each_print_completes():
    source = BarPathSource(bars(), HOUR)
    steps = lockstep_steps({"B": ("BTC/USD", source)})
    due = {s.at - T0: s.bars_due["B"] for s in steps}
    assert due[2700] == 0 and due[2 * HOUR] == 1 and due[3 * HOUR] == 2
    assert len(steps) == 9 and {s.pair for s in steps} == {"BTC/USD"}


def test_exchange_candles_equal_the_bars_and_a_market_order_fills_at_the_close():
    key, secret = "k", "c2VjcmV0"
    clock = ManualClock(T0)
    server = KrakenSimServer(
        SimConfig(
            pairs=["BTC/USD"],
            accounts=[AccountConfig(key, secret, balances={"ZUSD": "100000", "XXBT": "0"})],
            clock=clock,
            sources={"BTC/USD": BarPathSource(bars(), HOUR)},
        )
    )
    source = server.sources[next(iter(server.sources))]
    source.start(server.exchange, server.exchange.find_pair("BTC/USD"), T0)
    fills = []
    for when in source.times():
        clock.set(when)
        server.tick()
        if when == T0 + 2 * HOUR:  # the second bar's open print: the book is still at 101
            account = server.exchange.accounts[key]
            pair = server.exchange.find_pair("BTC/USD")
            order = server.exchange.add_order(
                account,
                OrderRequest(pair=pair, side="buy", ordertype="market", volume=Decimal("0.5")),
            )
            fills.append(order.avg_price)
    assert fills == [Decimal("101.0")]
    candles = server.exchange.stats[server.exchange.find_pair("BTC/USD").key].candles[60]
    rows = {c.time: c for c in candles.window(clock.now())}
    first, last = rows[int(T0)], rows[int(T0 + 2 * HOUR)]
    assert (first.open, first.high, first.low, first.close) == (100, 105, 99, 101)
    assert (last.open, last.high, last.low, last.close) == (102, 103, 95, 96)


def test_two_pairs_print_one_at_a_time_in_the_data_order():
    btc, eth = BarPathSource(bars(), HOUR), BarPathSource(bars()[:1], HOUR)
    steps = lockstep_steps({"B": ("BTC/USD", btc), "E": ("ETH/USD", eth)})
    at_open = [(s.pair, s.bars_due) for s in steps if s.at == T0]
    assert at_open == [("BTC/USD", {"B": 0, "E": 0}), ("ETH/USD", {"B": 0, "E": 0})]
    at_close = [(s.pair, s.bars_due) for s in steps if s.at == T0 + HOUR]
    assert at_close == [("ETH/USD", {"B": 0, "E": 1})]  # ETH's last candle completes alone
    assert len(steps) == 9 + 5
