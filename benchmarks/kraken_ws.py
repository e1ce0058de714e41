"""
Kraken WebSocket market data in the adapter.

1. Decode plus L2 book maintenance with CRC32 checksum validation on every message, over the
   recorded Kraken v2 book stream (``../shared/data/kraken/ws/book_v2_btcusd_stream.json``,
   a snapshot and 509 updates replayed many times): the adapter's path (msgspec Structs, an
   integer-scaled book, checksum text from ``str(int)``) beside a straightforward implementation
   (``json.loads``, dicts of Decimal, sort and format on every message), in the same run;
   messages per second, medians of several repeats, and the ratio. A third row adds what the
   data client does next: building nautilus ``OrderBookDeltas``.
2. Tick-to-order latency inside a TradingNode against the local exchange: from a trade printed
   on the exchange (its timestamp) to the order a strategy sends in reaction arriving back at
   the exchange (the exchange's own receive time), p50 / p99. Skipped with
   ``KRAKEN_BENCH_NODE=0``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

import msgspec
from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.trading.strategy import Strategy

from benchmarks.common import print_table
from seraphim.adapters.kraken.book import KrakenBook
from seraphim.adapters.kraken.parsing import to_cl_ord_id
from seraphim.adapters.kraken.schemas.ws import BookMessage
from seraphim.paths import shared_data_dir

REPEATS = 5
PASSES = 40  # replays of the 510-message stream per repeat


def load_stream() -> list[str]:
    """The recorded stream as wire text (compact JSON, one message per element)."""
    path = shared_data_dir() / "kraken/ws/book_v2_btcusd_stream.json"
    if not path.is_file():
        raise SystemExit(f"recorded book stream not found: {path} (set SERAPHIM_SHARED_DATA)")
    raw = json.loads(path.read_text())
    return [json.dumps(m, separators=(",", ":")) for m in [raw["init"], *raw["updates"]]]


# ---------------------------------------------------------------------- implementations


def adapter_pass(messages: list[str], decoder: msgspec.json.Decoder) -> int:
    """The adapter's decode + book + checksum; returns the number of mismatches."""
    book = KrakenBook(10, 1, 8)
    bad = 0
    for text in messages:
        message = decoder.decode(text)
        if message.type == "snapshot":
            book.clear()
        for data in message.data:
            book.apply_wire(data.bids, data.asks)
            if book.checksum() != data.checksum:
                bad += 1
    return bad


def adapter_with_deltas_pass(messages: list[str], decoder: msgspec.json.Decoder) -> int:
    """As above, plus the nautilus OrderBookDeltas the data client emits."""
    from nautilus_trader.model.data import BookOrder
    from nautilus_trader.model.data import OrderBookDelta
    from nautilus_trader.model.data import OrderBookDeltas
    from nautilus_trader.model.enums import BookAction
    from nautilus_trader.model.objects import Price
    from nautilus_trader.model.objects import Quantity

    instrument_id = InstrumentId.from_str("BTC/USD.KRAKEN")
    book = KrakenBook(10, 1, 8)
    pmul, qmul = 10**15, 10**8
    bad = 0
    for text in messages:
        message = decoder.decode(text)
        snapshot = message.type == "snapshot"
        if snapshot:
            book.clear()
        for data in message.data:
            changes = book.apply_wire(data.bids, data.asks)
            if book.checksum() != data.checksum:
                bad += 1
                continue
            deltas = []
            for is_bid, price, qty, existed in changes:
                action = (
                    BookAction.DELETE
                    if qty == 0
                    else (BookAction.UPDATE if existed and not snapshot else BookAction.ADD)
                )
                order = BookOrder(
                    OrderSide.BUY if is_bid else OrderSide.SELL,
                    Price.from_raw(price * pmul, 1),
                    Quantity.from_raw(qty * qmul, 8),
                    0,
                )
                deltas.append(OrderBookDelta(instrument_id, action, order, 0, 0, 0, 0))
            if deltas:
                OrderBookDeltas(instrument_id, deltas)
    return bad


def _tests_on_path() -> None:
    """The tests' plain clients and threaded exchange serve as references here."""
    tests = str(Path(__file__).resolve().parent.parent / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)


def naive_pass(messages: list[str]) -> int:
    """The straightforward way: json, Decimal dicts, sort and format on every message (the
    tests' plain client written from Kraken's book guide)."""
    _tests_on_path()
    from sim_kraken.client import CheckedBook

    book = CheckedBook(10, 1, 8)
    bad = 0
    for text in messages:
        message = json.loads(text)
        if message["type"] == "snapshot":
            book = CheckedBook(10, 1, 8)
        for entry in message["data"]:
            if not book.apply(entry):
                bad += 1
    return bad


def rate(run, messages: list[str]) -> tuple[float, list[float]]:
    """Median messages per second over REPEATS runs of PASSES replays (after a warm-up)."""
    run(messages)
    samples = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        for _ in range(PASSES):
            bad = run(messages)
            assert bad == 0, "checksum mismatch in the recorded stream"
        samples.append(len(messages) * PASSES / (time.perf_counter() - started))
    return statistics.median(samples), samples


def decode_benchmark() -> None:
    messages = load_stream()
    decoder = msgspec.json.Decoder(BookMessage)
    results = [
        (
            "adapter: msgspec + int book + checksum",
            rate(lambda m: adapter_pass(m, decoder), messages),
        ),
        (
            "adapter + nautilus OrderBookDeltas",
            rate(lambda m: adapter_with_deltas_pass(m, decoder), messages),
        ),
        ("straightforward: json + Decimal dicts", rate(naive_pass, messages)),
    ]  # fmt: skip
    baseline = results[-1][1][0]
    rows = []
    for name, (median, samples) in results:
        rows.append(
            [
                name,
                f"{median:,.0f}",
                f"{min(samples):,.0f} - {max(samples):,.0f}",
                f"{median / baseline:.1f}x",
            ]
        )
    print_table(
        f"Kraken v2 book stream: decode + book + checksum on every message "
        f"({len(messages)} messages x {PASSES} x {REPEATS} repeats, medians)",
        ["implementation", "messages/s", "range", "vs straightforward"],
        rows,
    )


# ---------------------------------------------------------------------- tick-to-order


def latency_run(seconds: float, operations: bool) -> list[float]:
    """
    One node run against a fresh local exchange: milliseconds from each trade print to the
    strategy's order at the exchange. ``operations`` adds the control channel and the monitor
    (with Prometheus metrics), as ``--metrics-port`` and an operator secret do.
    """
    import base64
    import socket
    import tempfile

    import yaml
    from nautilus_trader.config import ImportableStrategyConfig

    from seraphim.node.runner import run_node
    from seraphim.sim.kraken import AccountConfig
    from seraphim.sim.kraken import SimConfig

    _tests_on_path()
    from adapters_kraken.helpers import ThreadedSim  # the tests' threaded exchange

    key, secret = "bench-key", base64.b64encode(b"bench-secret-" * 4).decode()
    os.environ["KRAKEN_API_KEY"], os.environ["KRAKEN_API_SECRET"] = key, secret
    metrics_port = None
    if operations:
        os.environ["SERAPHIM_OPERATOR_SECRET"] = "bench-operator-secret"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            metrics_port = probe.getsockname()[1]
    else:
        os.environ.pop("SERAPHIM_OPERATOR_SECRET", None)
    market = {
        "warmup_seconds": 1800,
        "step_seconds": 0.05,
        "volatility": 0.0002,
        "trade_probability": 0.8,
    }
    config = SimConfig(
        accounts=[AccountConfig(key, secret, tier="pro")],
        random_walk=market,
        tick_interval=0.02,
        pairs=["BTC/USD"],
    )
    LATENCY_SAMPLES.clear()
    with ThreadedSim(config) as tsim, tempfile.TemporaryDirectory() as tmp:
        sim = tsim.sim
        node_file = Path(tmp) / "latency.yaml"
        node_file.write_text(
            yaml.safe_dump(
                {
                    "name": "latency",
                    "trader_id": f"LATENCY-{'OPS' if operations else 'BARE'}",
                    "kraken": {
                        "rest_url": sim.rest_url,
                        "ws_public_url": sim.ws_public_url,
                        "ws_private_url": sim.ws_private_url,
                        "public_rate_per_sec": 0,
                        "tier": "pro",
                        "pairs": ["BTC/USD"],
                    },
                    "execution": "kraken",
                    "log_level": "ERROR",
                    "timeout_post_stop": 0.5,
                }
            )
        )
        strategy = ImportableStrategyConfig(
            strategy_path=f"{LatencyProbe.__module__}:LatencyProbe",
            config_path=f"{LatencyProbeConfig.__module__}:LatencyProbeConfig",
            config={"instrument_id": "BTC/USD.KRAKEN", "every": 4, "max_orders": 120},
        )
        run_node(
            node_file, duration=seconds, extra_strategies=[strategy], metrics_port=metrics_port
        )
        orders = list(sim.exchange.accounts[key].orders.values())
    os.environ.pop("SERAPHIM_OPERATOR_SECRET", None)
    by_cl = {o.cl_ord_id: o for o in orders}
    return sorted(
        (by_cl[cl_ord_id].opentm - trade_ts) * 1000
        for cl_ord_id, trade_ts in LATENCY_SAMPLES
        if cl_ord_id in by_cl
    )


def latency_benchmark(seconds: float = 20.0, rounds: int = 2) -> None:
    """Tick-to-order without and with the operations actors, alternating in one run."""
    samples: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(rounds):
        for operations in (False, True):
            samples[operations] += latency_run(seconds, operations)
    rows = []
    for operations, label in ((False, "node"), (True, "node + control channel + monitor")):
        values = sorted(samples[operations])
        if len(values) < 10:
            print(f"tick-to-order ({label}): too few samples ({len(values)})")
            return
        p99 = values[min(len(values) - 1, round(0.99 * (len(values) - 1)))]
        rows.append([label, str(len(values)), statistics.median(values), p99, values[0]])
    base = rows[0][2]
    print_table(
        "Tick-to-order in a TradingNode against the local exchange (127.0.0.1, real sockets): "
        "exchange trade print -> strategy's order received by the exchange",
        ["node", "samples", "p50 ms", "p99 ms", "min ms", "p50 vs bare node"],
        [
            [r[0], r[1], f"{r[2]:.2f}", f"{r[3]:.2f}", f"{r[4]:.2f}", f"{r[2] / base:.3f}"]
            for r in rows
        ],
    )


LATENCY_SAMPLES: list[tuple[str, float]] = []


class LatencyProbeConfig(StrategyConfig, frozen=True):
    instrument_id: InstrumentId
    every: int = 4
    max_orders: int = 100


class LatencyProbe(Strategy):
    """On every n-th trade tick: a post-only limit buy far below the market."""

    def __init__(self, config: LatencyProbeConfig) -> None:
        super().__init__(config)
        self.seen = 0
        self.sent = 0

    def on_start(self) -> None:
        self.instrument = self.cache.instrument(self.config.instrument_id)
        self.subscribe_trade_ticks(self.config.instrument_id)

    def on_trade_tick(self, tick: TradeTick) -> None:
        self.seen += 1
        if self.seen % self.config.every or self.sent >= self.config.max_orders:
            return
        self.sent += 1
        price = self.instrument.make_price(tick.price.as_double() * 0.8)
        order = self.order_factory.limit(
            self.config.instrument_id,
            OrderSide.BUY,
            self.instrument.make_qty(0.0001),
            price,
            post_only=True,
        )
        LATENCY_SAMPLES.append((to_cl_ord_id(order.client_order_id.value), tick.ts_event / 1e9))
        self.submit_order(order)

    def on_stop(self) -> None:
        self.cancel_all_orders(self.config.instrument_id)


def main() -> None:
    decode_benchmark()
    if os.environ.get("KRAKEN_BENCH_NODE", "1") != "0":
        latency_benchmark()


if __name__ == "__main__":
    main()
