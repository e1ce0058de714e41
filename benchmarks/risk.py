"""
The risk layer's cost.

All timings are CPU time of this process (``time.process_time``): on a shared machine wall time
measures the neighbours as much as the risk layer.

1. Per-order cost of the rule chain (median CPU microseconds per order, all rules on): the pure rule
   arithmetic on a prepared book, and the full gate check as an order meets it (the books
   built from nautilus's cache, equity marked, both the global and the strategy's rules).
2. Backtest throughput with every rule and the guard on against the risk layer off, on the same
   bars in the same run (medians): the goal is under 10 % slower (15 % with the strategy
   clipping to its headroom every bar).
3. Where valgrind is installed (and ``RISK_BENCH_VALGRIND`` is not ``0``), the instructions of
   one whole run of a year of the bars per variant, which do not depend on the load at all.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from nautilus_trader.model.data import Bar
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import StrategyId

from benchmarks.backtest import whole_run
from benchmarks.common import SAMPLE_CATALOG
from benchmarks.common import instructions
from benchmarks.common import print_table
from benchmarks.common import real_or_sample_csv
from benchmarks.common import valgrind_available
from seraphim.adapters.kraken.ingest import ingest_kraken_ohlcvt
from seraphim.backtest.config import parse_spec
from seraphim.backtest.runner import run_backtest
from seraphim.catalog.store import SeraphimCatalog
from seraphim.risk.rules import NoMarketFacts
from seraphim.risk.rules import RuleSet

BAR_TYPE = "BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL"
REPEATS = 3
ORDERS = 20_000

# Every rule switched on, loose enough that the benchmark strategy is never denied (so both
# runs trade identically and the difference is the cost of checking).
ALL_RULES = {
    "limits": {
        "max_position_qty": 100.0,
        "max_position_pct": 50.0,
        "max_order_notional": 1e9,
        "max_asset_pct": 50.0,
        "max_venue_pct": 50.0,
        "max_volatility": 50.0,
        "max_volume_fraction": 1e6,
        "max_book_fraction": 1e6,
        "max_gross_leverage": 50.0,
        "max_daily_loss": 0.99,
    },
    "strategies": {"*": {"max_position_qty": 100.0, "max_daily_loss": 0.99}},
    "guard": {"max_drawdown": 0.99, "max_daily_loss": 0.99},
}


VARIANTS = {
    "risk layer off (enabled: false)": ({"enabled": False}, True),
    "all rules + guard on, checked per order": (ALL_RULES, False),
    "... and the strategy clips to headroom each bar": (ALL_RULES, True),
}
# The instruction counts run one year of the bars (a whole run under valgrind takes ~50x).
COUNTED_YEAR = {"start": "2021-01-01", "end": "2022-01-01"}


def _spec(catalog: SeraphimCatalog, out: Path, risk: dict, clip: bool = True):
    return parse_spec(whole_run(catalog, out, clip_to_risk=clip, risk=risk))


def _per_order_costs(catalog: SeraphimCatalog, workdir: Path) -> list[list[str]]:
    """Time the checks against the state a real run leaves behind (positions, accounts, bars)."""
    from nautilus_trader.backtest.node import BacktestNode

    from seraphim.backtest.config import build_run_config
    from seraphim.risk.controller import RiskController

    spec = _spec(catalog, workdir / "state", ALL_RULES)
    spec = parse_spec({**_builtins(spec), "end": "2022-01-01", "start": "2021-10-01"})
    run_config = build_run_config(spec)
    node = BacktestNode(configs=[run_config])
    node.run()
    engine = node.get_engine(run_config.id)
    gate = next(a for a in engine.trader.actors() if isinstance(a, RiskController)).gate
    instrument_id = InstrumentId.from_str("BTC/USD.KRAKEN")
    strategy_id = StrategyId("MACross-000")

    def full_check():
        for i in range(ORDERS):
            gate._check(strategy_id, instrument_id, 1 if i % 2 else -1, 0.1, None)

    equity = gate.equity()
    book, _ = gate._books(None, gate._unfinished(None), equity, True)
    intent_buy = _intent(gate, instrument_id, 1)
    rules = RuleSet(gate.config.limits)
    facts = gate.facts

    def pure():
        for _ in range(ORDERS):
            rules.check(intent_buy, book, facts)

    no_facts = NoMarketFacts()

    def pure_no_market():
        for _ in range(ORDERS):
            rules.check(intent_buy, book, no_facts)

    rows = []
    for label, run in (
        ("rule chain only (10 rules, prepared book)", pure),
        ("rule chain, no market facts", pure_no_market),
        ("full gate check (books from the cache, global + strategy)", full_check),
    ):
        samples = []
        for _ in range(5):
            started = time.process_time()
            run()
            samples.append((time.process_time() - started) / ORDERS * 1e6)
        rows.append([label, f"{ORDERS:,}", f"{statistics.median(samples):.1f}"])
    node.dispose()
    return rows


def _intent(gate, instrument_id, side):
    from seraphim.risk.rules import Intent

    instrument = gate.cache.instrument(instrument_id)
    return Intent(
        str(instrument_id),
        instrument.base_currency.code,
        instrument_id.venue.value,
        side,
        0.1,
        gate._unit_value(instrument, None),
    )


def _builtins(spec) -> dict:
    import msgspec

    return msgspec.json.decode(msgspec.json.encode(spec))


def run_variant(catalog: str, output: str, variant: str, runs: int) -> None:
    """Run ``variant``'s year ``runs`` times (the process valgrind counts)."""
    risk, clip = VARIANTS[variant]
    spec = _spec(SeraphimCatalog(Path(catalog)), Path(output), risk, clip)
    spec = parse_spec({**_builtins(spec), **COUNTED_YEAR})
    for _ in range(runs):
        run_backtest(spec)


def _instruction_rows(catalog: SeraphimCatalog, workdir: Path) -> list[list[str]]:
    """Instructions of one whole run per variant: a process running it twice minus one
    running it once (imports, catalog and first-run warm-up cancel out)."""
    counts = {}
    for variant in VARIANTS:
        once, twice = (
            instructions(
                "from benchmarks.risk import run_variant; "
                f"run_variant({str(catalog.path)!r}, {str(workdir / 'counted')!r}, "
                f"{variant!r}, {runs})"
            )
            for runs in (1, 2)
        )
        counts[variant] = twice - once
    off = counts["risk layer off (enabled: false)"]
    return [
        [variant, f"{count / 1e9:.3f}", f"{count / off - 1:+.1%}"]
        for variant, count in counts.items()
    ]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        csv, label = real_or_sample_csv()
        if csv is None:
            catalog = SeraphimCatalog(SAMPLE_CATALOG)
        else:
            catalog = SeraphimCatalog(workdir / "catalog")
            ingest_kraken_ohlcvt(catalog, csv, "BTC/USD", 60)
        bars = len(catalog.nautilus.query(Bar, identifiers=[BAR_TYPE]))

        print_table(
            f"Risk rule chain, per order (median of 5 x {ORDERS:,} checks, on {label})",
            ["check", "orders", "CPU µs / order"],
            _per_order_costs(catalog, workdir),
        )

        runs = VARIANTS
        specs, orders, checked = {}, {}, {}
        for name, (risk, clip) in runs.items():
            specs[name] = _spec(catalog, workdir / f"run{len(specs)}", risk, clip)
            outcome = run_backtest(specs[name])  # also the warm-up round
            assert outcome.metrics["denied_orders"] == {}, outcome.metrics["denied_orders"]
            orders[name] = outcome.metrics["orders"]
            checked[name] = outcome.metrics["risk"].get("orders_checked", 0)
        assert len(set(orders.values())) == 1, f"the runs traded differently: {orders}"
        # Interleaved rounds, so a busy machine slows every variant alike.
        samples: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(REPEATS):
            for name, spec in specs.items():
                started = time.process_time()
                run_backtest(spec)
                samples[name].append(time.process_time() - started)
        timings = {name: statistics.median(values) for name, values in samples.items()}
        off = timings["risk layer off (enabled: false)"]
        rows = [
            [
                name,
                f"{bars:,}",
                f"{orders[name]:,}",
                f"{checked[name]:,}",
                f"{seconds:.2f}",
                f"{bars / seconds:,.0f}",
                f"{seconds / off - 1:+.1%}",
            ]
            for name, seconds in timings.items()
        ]
        print_table(
            f"Backtest throughput, risk off vs all rules on ({label}, {bars:,} 1-hour bars, "
            f"ma_cross EMA 10/20 long/short, median of {REPEATS} interleaved rounds, "
            "whole `backtest run` path)",
            ["run", "bars", "orders", "orders checked", "CPU seconds", "bars/CPU s", "vs off"],
            rows,
        )
        if valgrind_available("RISK_BENCH_VALGRIND"):
            print_table(
                f"Instructions of one whole `backtest run` of {COUNTED_YEAR['start'][:4]} "
                "(valgrind: the same count whatever else the machine does)",
                ["run", "G instructions", "vs off"],
                _instruction_rows(catalog, workdir),
            )


if __name__ == "__main__":
    main()
