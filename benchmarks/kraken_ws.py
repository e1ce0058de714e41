"""
Kraken WebSocket market data in the adapter.

1. Decode plus L2 book maintenance with CRC32 checksum validation on every message, over the
   recorded Kraken v2 book stream (``../shared/data/kraken/ws/book_v2_btcusd_stream.json``,
   a snapshot and 509 updates replayed many times): the data client's book path
   (:func:`book_path`: msgspec Structs, an integer-scaled book whose levels keep their checksum
   fragments, and nautilus ``OrderBookDeltas`` from raw values) with and without the deltas,
   beside a straightforward implementation (``json.loads``, dicts of Decimal, sort and format
   on every message). The three alternate within each repeat; messages per CPU second
   (process time, so other load on the machine weighs less), medians of ``REPEATS``, and the
   ratio. Where valgrind is installed (and ``KRAKEN_BENCH_VALGRIND`` is not ``0``), also
   instructions per message, which do not depend on the load at all.
2. Tick-to-order latency inside a TradingNode against the local exchange: from a trade printed
   on the exchange (its timestamp) to the order a strategy sends in reaction arriving back at
   the exchange (the exchange's own receive time), p50 / p99, without and with the operations
   actors in alternating (ABBA) pairs of short runs, and the p50 ratio with a bootstrap
   interval over the pairs against issue #14's 2 % budget. Skipped with
   ``KRAKEN_BENCH_NODE=0``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import msgspec
from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.data import TradeTick
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.events import OrderSubmitted
from nautilus_trader.model.identifiers import ClientOrderId
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.trading.strategy import Strategy

from benchmarks.common import PeerProcess
from benchmarks.common import instructions
from benchmarks.common import print_table
from benchmarks.common import quantile
from benchmarks.common import valgrind_available
from benchmarks.loopback import echo_round_trips
from seraphim.adapters.kraken.book import KrakenBook
from seraphim.adapters.kraken.book_deltas import BookDeltaBuilder
from seraphim.adapters.kraken.parsing import rfc3339_to_ns
from seraphim.adapters.kraken.parsing import to_cl_ord_id
from seraphim.adapters.kraken.schemas.ws import BookMessage
from seraphim.paths import shared_data_dir

REPEATS = 5
PASSES = 40  # replays of the 510-message stream per repeat
VALGRIND_PASSES = 10
INSTRUMENT = "BTC/USD.KRAKEN"
STREAM = "kraken/ws/book_v2_btcusd_stream.json"


def load_stream() -> list[str]:
    """The recorded stream as wire text (compact JSON, one message per element)."""
    path = shared_data_dir() / STREAM
    if not path.is_file():
        raise SystemExit(f"recorded book stream not found: {path} (set SERAPHIM_SHARED_DATA)")
    raw = json.loads(path.read_text())
    return [json.dumps(m, separators=(",", ":")) for m in [raw["init"], *raw["updates"]]]


# ---------------------------------------------------------------------- implementations


def book_path(deltas: bool = True) -> Callable[[str], bool]:
    """
    The data client's book path for one wire message of BTC/USD (price precision 1, size 8):
    decode, apply, checksum and, with ``deltas``, the event time and nautilus
    ``OrderBookDeltas``. Returns whether every checksum matched.
    """
    decoder = msgspec.json.Decoder(BookMessage)
    book = KrakenBook(10, 1, 8)
    builder = BookDeltaBuilder(InstrumentId.from_str(INSTRUMENT), 1, 8)

    def handle(text: str) -> bool:
        message = decoder.decode(text)
        snapshot = message.type == "snapshot"
        if snapshot:
            book.clear()
        ok = True
        for data in message.data:
            changes = book.apply_wire(data.bids, data.asks)
            if book.checksum() != data.checksum:
                ok = False
            elif deltas:
                ts_event = rfc3339_to_ns(data.timestamp) if data.timestamp else 0
                builder.build(changes, snapshot, ts_event, ts_event)
        return ok

    return handle


def _tests_on_path() -> None:
    """The tests' plain clients and threaded exchange serve as references here."""
    tests = str(Path(__file__).resolve().parent.parent / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)


def naive_path() -> Callable[[str], bool]:
    """The straightforward way: json, Decimal dicts, sort and format on every message (the
    tests' plain client written from Kraken's book guide)."""
    _tests_on_path()
    from sim_kraken.client import CheckedBook

    book = CheckedBook(10, 1, 8)

    def handle(text: str) -> bool:
        nonlocal book
        message = json.loads(text)
        if message["type"] == "snapshot":
            book = CheckedBook(10, 1, 8)
        return all([book.apply(entry) for entry in message["data"]])

    return handle


IMPLEMENTATIONS: dict[str, Callable[[], Callable[[str], bool]]] = {
    "adapter: msgspec + int book + checksum": lambda: book_path(deltas=False),
    "adapter + nautilus OrderBookDeltas": lambda: book_path(deltas=True),
    "straightforward: json + Decimal dicts": naive_path,
}


def replay(name: str, messages: list[str], passes: int) -> None:
    """``passes`` replays of the stream through a fresh instance of one implementation."""
    handle = IMPLEMENTATIONS[name]()
    for _ in range(passes):
        for text in messages:
            if not handle(text):
                raise AssertionError(f"{name}: checksum mismatch in the recorded stream")


def cpu_rates(messages: list[str]) -> dict[str, list[float]]:
    """Messages per CPU second, ``REPEATS`` samples each, the implementations interleaved."""
    samples: dict[str, list[float]] = {name: [] for name in IMPLEMENTATIONS}
    for name in IMPLEMENTATIONS:
        replay(name, messages, 1)  # warm-up
    for _ in range(REPEATS):
        for name, rates in samples.items():
            passes = PASSES if name.startswith("adapter") else max(1, PASSES // 8)
            started = time.process_time()
            replay(name, messages, passes)
            rates.append(len(messages) * passes / (time.process_time() - started))
    return samples


def replay_instructions(name: str | None, passes: int) -> int:
    """Instructions (valgrind) of a process that loads and warms every implementation, then
    replays the stream ``passes`` times through ``name``'s."""
    return instructions(
        "from benchmarks.kraken_ws import IMPLEMENTATIONS, load_stream, replay; m = load_stream()\n"
        "for name in IMPLEMENTATIONS: replay(name, m, 1)\n"
        f"if {name!r}: replay({name!r}, m, {passes})"
    )


def instructions_per_message(messages: list[str]) -> dict[str, float] | None:
    """Instructions per message of each implementation (runs with and without its replays)."""
    if not valgrind_available("KRAKEN_BENCH_VALGRIND"):
        return None
    base = replay_instructions(None, 0)
    return {
        name: (replay_instructions(name, VALGRIND_PASSES) - base)
        / (len(messages) * VALGRIND_PASSES)
        for name in IMPLEMENTATIONS
    }


def decode_benchmark() -> None:
    messages = load_stream()
    samples = cpu_rates(messages)
    counts = instructions_per_message(messages)
    medians = {name: statistics.median(rates) for name, rates in samples.items()}
    baseline = medians["straightforward: json + Decimal dicts"]
    rows = []
    for name, rates in samples.items():
        row = [name, f"{medians[name]:,.0f}", f"{min(rates):,.0f} - {max(rates):,.0f}"]
        row.append(f"{medians[name] / baseline:.1f}x")
        if counts is not None:
            row.append(f"{counts[name]:,.0f}")
        rows.append(row)
    columns = ["implementation", "messages/CPU s", "range", "vs straightforward"]
    print_table(
        f"Kraken v2 book stream: decode + book + checksum on every message "
        f"({len(messages)} messages x {PASSES} x {REPEATS} repeats, medians)",
        columns + (["instructions/message"] if counts is not None else []),
        rows,
    )


# ---------------------------------------------------------------------- tick-to-order


BENCH_KEY = "bench-key"
BENCH_SECRET = base64.b64encode(b"bench-secret-" * 4).decode()
# 16 runs of 10 s plus the exchange's and the node's start and stop (7 s quiet, up to 14 s on a
# loaded machine): 5 to 6 minutes. The probe orders on every 2nd trade, about 8 times a second:
# a run gives about 75 samples after its warm-up (the per-run p50's own sampling noise is most
# of the interval's width on a quiet machine).
LATENCY_SECONDS = 10.0
LATENCY_PAIRS = 8
LATENCY_EVERY = 2
WARMUP_ORDERS = 5
BOOTSTRAP = 2000
BUDGET = 0.02  # issue #14: the operations actors cost <= 2 % of the tick-to-order p50


def serve_exchange() -> None:
    """
    The local exchange for a latency run, in its own process as Kraken is (on a thread of the
    node's process it would share the GIL with the node). Prints its addresses as one JSON
    line; when stdin closes, the orders it received (``cl_ord_id`` -> receive time) as another.
    """
    from seraphim.sim.kraken import AccountConfig
    from seraphim.sim.kraken import KrakenSimServer
    from seraphim.sim.kraken import SimConfig

    market = {
        "warmup_seconds": 1800,
        "step_seconds": 0.05,
        "volatility": 0.0002,
        "trade_probability": 0.8,
    }
    config = SimConfig(
        accounts=[AccountConfig(BENCH_KEY, BENCH_SECRET, tier="pro")],
        random_walk=market,
        tick_interval=0.02,
        pairs=["BTC/USD"],
    )

    async def main() -> None:
        async with KrakenSimServer(config) as sim:
            print(json.dumps(sim.addresses()), flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
            orders = sim.exchange.accounts[BENCH_KEY].orders.values()
            print(json.dumps({o.cl_ord_id: o.opentm for o in orders}), flush=True)

    asyncio.run(main())


def latency_run(
    seconds: float, operations: bool, every: int = 4, max_orders: int = 120
) -> tuple[list[float], list[float]]:
    """
    One node run against a fresh local exchange: milliseconds from each trade print to the
    strategy's order at the exchange, in the order sent; and the node's own part of each, from
    the trade's arrival (``TradeTick.ts_init``, stamped by the data client as it decodes the
    frame) to the order handed to the socket (``OrderSubmitted.ts_event``, stamped by the
    execution client just before it writes). ``operations`` adds the control
    channel and the monitor (with Prometheus metrics), as ``--metrics-port`` and an operator
    secret do. The probe orders on every ``every``-th trade, ``max_orders`` at most.
    """
    import socket
    import tempfile

    import yaml
    from nautilus_trader.config import ImportableStrategyConfig

    from seraphim.node.runner import run_node

    os.environ["KRAKEN_API_KEY"], os.environ["KRAKEN_API_SECRET"] = BENCH_KEY, BENCH_SECRET
    metrics_port = None
    if operations:
        os.environ["SERAPHIM_OPERATOR_SECRET"] = "bench-operator-secret"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            metrics_port = probe.getsockname()[1]
    else:
        os.environ.pop("SERAPHIM_OPERATOR_SECRET", None)
    LATENCY_SAMPLES.clear()
    IN_NODE_SAMPLES.clear()
    trader_id = f"LATENCY-{'OPS' if operations else 'BARE'}"
    try:
        with PeerProcess(serve_exchange) as exchange:
            addresses = exchange.ready
            with tempfile.TemporaryDirectory() as tmp:
                node_file = Path(tmp) / "latency.yaml"
                node_file.write_text(
                    yaml.safe_dump(
                        {
                            "name": "latency",
                            "trader_id": trader_id,
                            "kraken": {
                                "rest_url": addresses["rest"],
                                "ws_public_url": addresses["ws_public"],
                                "ws_private_url": addresses["ws_private"],
                                "public_rate_per_sec": 0,
                                "tier": "pro",
                                "pairs": ["BTC/USD"],
                            },
                            "execution": "kraken",
                            "log_level": "ERROR",
                            "timeout_post_stop": 2.0,
                        }
                    )
                )
                strategy = ImportableStrategyConfig(
                    strategy_path=f"{LatencyProbe.__module__}:LatencyProbe",
                    config_path=f"{LatencyProbeConfig.__module__}:LatencyProbeConfig",
                    config={
                        "instrument_id": "BTC/USD.KRAKEN",
                        "every": every,
                        "max_orders": max_orders,
                    },
                )
                run_node(
                    node_file,
                    duration=seconds,
                    extra_strategies=[strategy],
                    metrics_port=metrics_port,
                )
            received = exchange.results()
    finally:
        os.environ.pop("SERAPHIM_OPERATOR_SECRET", None)
        if operations:
            forget_trader(trader_id)
    tick_to_order = [
        (received[cl_ord_id] - trade_ts) * 1000
        for client_order_id, trade_ts in LATENCY_SAMPLES
        if (cl_ord_id := to_cl_ord_id(client_order_id)) in received
    ]
    return tick_to_order, list(IN_NODE_SAMPLES)


def forget_trader(trader_id: str) -> None:
    """Delete what a benchmark node's operations actors left in Redis (its health would look
    like a node gone silent to ``seraphim monitor``); nothing when Redis is away."""
    import redis

    from seraphim.ops.keys import delete_trader_keys
    from seraphim.state.settings import redis_settings

    client = redis_settings().client(timeout=2.0, retries=0)
    try:
        delete_trader_keys(client, trader_id)
    except (redis.RedisError, OSError):
        pass
    finally:
        client.close()


@dataclass
class PairedRuns:
    """One ABBA pair: each arm's tick-to-order and in-node samples (ms), warm-up left out."""

    tick_to_order: tuple[list[float], list[float]]  # (bare, with the actors)
    in_node: tuple[list[float], list[float]]


def _pooled(pairs: list[PairedRuns], measure: str, arm: int) -> float:
    return statistics.median([v for pair in pairs for v in getattr(pair, measure)[arm]])


def p50_ratio(pairs: list[PairedRuns]) -> float:
    """Tick-to-order p50 with the actors over p50 without, each pooled over the runs."""
    return _pooled(pairs, "tick_to_order", 1) / _pooled(pairs, "tick_to_order", 0)


def in_node_cost(pairs: list[PairedRuns]) -> float:
    """What the actors add to the node's own p50, as a share of the bare tick-to-order p50:
    the part of the path they share a thread with, without the exchange's and the network's
    noise."""
    added = _pooled(pairs, "in_node", 1) - _pooled(pairs, "in_node", 0)
    return added / _pooled(pairs, "tick_to_order", 0)


def bootstrap_ci(
    pairs: list[PairedRuns],
    statistic: Callable[[list[PairedRuns]], float],
    resamples: int = BOOTSTRAP,
    seed: int = 0,
) -> tuple[float, float]:
    """95 % interval of ``statistic``, resampling whole pairs of runs (the run-to-run spread
    is most of the noise: resampling single orders would hide it)."""
    rng = random.Random(seed)
    values = [statistic(rng.choices(pairs, k=len(pairs))) for _ in range(resamples)]
    return quantile(values, 0.025), quantile(values, 0.975)


def _verdict(low: float, high: float, budget: float) -> str:
    if high <= budget:
        return f"within the {budget:.0%} budget"
    if low > budget:
        return f"over the {budget:.0%} budget"
    return f"the {budget:.0%} budget is inside the interval: not decided at this noise"


def latency_benchmark(seconds: float = LATENCY_SECONDS, pairs: int = LATENCY_PAIRS) -> None:
    """
    Tick-to-order without and with the operations actors: ``pairs`` pairs of short node runs,
    alternating ABBA (bare, ops, ops, bare, ...) so a drift in the machine's load weighs on
    both alike. Each run's first ``WARMUP_ORDERS`` orders are left out. Printed: each arm
    pooled (p50, p99), each pair's p50 ratio, the pooled p50 ratio and the actors' cost in the
    node's own time, each with a 95 % bootstrap interval over the pairs against the 2 % budget;
    then where the bare node's time goes, beside the machine's floor.
    """
    floor = echo_round_trips(seconds)
    runs: list[PairedRuns] = []
    for i in range(pairs):
        order = (False, True) if i % 2 == 0 else (True, False)
        got = {ops: latency_run(seconds, ops, LATENCY_EVERY) for ops in order}
        runs.append(
            PairedRuns(
                tuple(got[ops][0][WARMUP_ORDERS:] for ops in (False, True)),  # type: ignore[arg-type]
                tuple(got[ops][1][WARMUP_ORDERS:] for ops in (False, True)),  # type: ignore[arg-type]
            )
        )
    floor += echo_round_trips(seconds)
    sizes = [len(v) for run in runs for v in (*run.tick_to_order, *run.in_node)]
    if min(sizes) < 10:
        print(f"tick-to-order: too few samples in a run ({sizes})")
        return
    rows = []
    for arm, label in ((0, "node"), (1, "node + control channel + monitor")):
        values = [v for run in runs for v in run.tick_to_order[arm]]
        rows.append(
            [
                label,
                str(len(values)),
                f"{statistics.median(values):.3f}",
                f"{quantile(values, 0.99):.2f}",
                f"{min(values):.2f}",
            ]
        )
    print_table(
        "Tick-to-order in a TradingNode against the local exchange (127.0.0.1, real sockets): "
        f"exchange trade print -> strategy's order received by the exchange; {pairs} ABBA pairs "
        f"of {seconds:g} s runs",
        ["node", "samples", "p50 ms", "p99 ms", "min ms"],
        rows,
    )
    paired = [p50_ratio([run]) for run in runs]
    print("p50 ratio (with / without the actors) per pair: " + " ".join(f"{r:.3f}" for r in paired))
    low, high = bootstrap_ci(runs, p50_ratio)
    print(
        f"pooled p50 ratio {p50_ratio(runs):.3f}, 95 % CI [{low:.3f}, {high:.3f}] (bootstrap over "
        f"the {pairs} pairs, {BOOTSTRAP} resamples): {_verdict(low - 1, high - 1, BUDGET)}"
    )
    low, high = bootstrap_ci(runs, in_node_cost)
    print(
        f"the actors' cost in the node's own time (its p50 with - without), as a share of the "
        f"tick-to-order p50: {in_node_cost(runs):+.2%}, 95 % CI [{low:+.2%}, {high:+.2%}]: "
        f"{_verdict(low, high, BUDGET)}"
    )
    print_table(
        "Where the bare node's tick-to-order goes (same run)",
        ["part", "samples", "p50 ms", "p90 ms", "p99 ms"],
        [
            [label, str(len(values)), f"{statistics.median(values):.3f}"]
            + [f"{quantile(values, q):.3f}" for q in (0.9, 0.99)]
            for label, values in (
                (
                    "tick-to-order (exchange print -> order at the exchange)",
                    [v for run in runs for v in run.tick_to_order[0]],
                ),
                (
                    "in the node: trade decoded -> order to the socket",
                    [v for run in runs for v in run.in_node[0]],
                ),
                (
                    "... with the control channel + monitor",
                    [v for run in runs for v in run.in_node[1]],
                ),
                ("floor: WebSocket round trip between two processes, no work", floor),
            )
        ],
    )


def tree_latency_run(tree: Path, seconds: float) -> tuple[list[float], list[float]]:
    """:func:`latency_run` (bare node) with the code of another checkout ``tree`` (a git
    worktree of another revision), in a process of its own; warm-up orders left out."""
    code = (
        "import json; from benchmarks.kraken_ws import latency_run, LATENCY_EVERY\n"
        f"print(json.dumps(latency_run({seconds!r}, False, LATENCY_EVERY)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=True,
    )
    tick_to_order, in_node = json.loads(result.stdout.strip().splitlines()[-1])
    return tick_to_order[WARMUP_ORDERS:], in_node[WARMUP_ORDERS:]


def _p50_p99(values: list[float]) -> str:
    return f"{statistics.median(values):.3f}  {quantile(values, 0.99):.3f}"


def compare_trees(before: Path, after: Path, seconds: float = 10.0, pairs: int = 4) -> None:
    """
    Tick-to-order of two revisions (``before`` and ``after`` checkouts), bare node, in ``pairs``
    ABBA pairs of ``seconds`` runs, with the floor measured before and after them: pooled p50 /
    p99 of each, the node's own part, and each pair's p50 difference (after - before).
    """
    floor = echo_round_trips(seconds)
    runs: dict[str, list[tuple[list[float], list[float]]]] = {"before": [], "after": []}
    for i in range(pairs):
        order = ("before", "after") if i % 2 == 0 else ("after", "before")
        for arm in order:
            runs[arm].append(tree_latency_run(before if arm == "before" else after, seconds))
    floor += echo_round_trips(seconds)
    rows = []
    for arm, arm_runs in runs.items():
        tick_to_order = [v for run in arm_runs for v in run[0]]
        in_node = [v for run in arm_runs for v in run[1]]
        rows.append([arm, str(len(tick_to_order)), _p50_p99(tick_to_order), _p50_p99(in_node)])
    rows.append(["floor (WebSocket round trip)", str(len(floor)), _p50_p99(floor), ""])
    print_table(
        f"Tick-to-order, {before} vs {after}: {pairs} ABBA pairs of {seconds:g} s runs",
        ["arm", "samples", "tick-to-order p50  p99 ms", "in the node p50  p99 ms"],
        rows,
    )
    differences = [
        statistics.median(runs["after"][i][0]) - statistics.median(runs["before"][i][0])
        for i in range(pairs)
    ]
    print("p50 after - before per pair (ms): " + " ".join(f"{d:+.3f}" for d in differences))


LATENCY_SAMPLES: list[tuple[str, float]] = []
IN_NODE_SAMPLES: list[float] = []


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
        self.arrived: dict[ClientOrderId, int] = {}

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
        LATENCY_SAMPLES.append((order.client_order_id.value, tick.ts_event / 1e9))
        self.arrived[order.client_order_id] = tick.ts_init
        self.submit_order(order)

    def on_order_submitted(self, event: OrderSubmitted) -> None:
        arrived = self.arrived.pop(event.client_order_id, None)
        if arrived is not None:
            IN_NODE_SAMPLES.append((event.ts_event - arrived) / 1e6)

    def on_stop(self) -> None:
        self.cancel_all_orders(self.config.instrument_id)


def main() -> None:
    decode_benchmark()
    if os.environ.get("KRAKEN_BENCH_NODE", "1") != "0":
        latency_benchmark()


if __name__ == "__main__":
    main()
