"""
The local Kraken exchange's per-trade market statistics (issue 11, fault 8): what a trade costs
a subscriber of ``ohlc`` (1 minute) and ``ticker`` when the tape already holds N trades. The
incremental statistics (``TapeStats``) beside a recomputation from the whole tape (what the
exchange did before), same trades, same run; microseconds per trade, medians, and the ratio.
"""

from __future__ import annotations

import random
from decimal import Decimal

from benchmarks.common import median_seconds
from benchmarks.common import print_table
from seraphim.sim.kraken.stats import PublicTrade
from seraphim.sim.kraken.stats import TapeStats
from seraphim.sim.kraken.stats import candles

TAPE_SIZES = (1_000, 10_000, 50_000)
TRADES_MEASURED = 200
REPEATS = 5
T0 = 1_700_000_000.0


def tape(n: int) -> list[PublicTrade]:
    """``n`` trades about 2 s apart around 65,000."""
    rng = random.Random(1)
    price, out = 65_000.0, []
    for i in range(n):
        price *= 1 + rng.gauss(0, 0.0002)
        qty = Decimal(rng.randint(1, 10**6)).scaleb(-8)
        out.append(PublicTrade(i + 1, Decimal(f"{price:.1f}"), qty, T0 + 2 * i, "b", "l"))
    return out


def incremental(history: list[PublicTrade], new: list[PublicTrade]):
    stats = TapeStats()
    for trade in history:
        stats.add(trade)

    def run() -> None:
        for trade in new:
            stats.add(trade)
            stats.candles[1].current(trade.time)
            stats.last_24h(trade.time)

    return run


def from_scratch(history: list[PublicTrade], new: list[PublicTrade]):
    def run() -> None:
        tape_so_far = list(history)
        for trade in new:
            tape_so_far.append(trade)
            candles(tape_so_far, 60, trade.time)[-1:]  # the old per-trade ohlc work
            since = trade.time - 86400
            window = [t for t in tape_so_far if t.time >= since]  # the old ticker window
            sum((t.qty for t in window), Decimal(0))

    return run


def main() -> None:
    rows = []
    for size in TAPE_SIZES:
        trades = tape(size + TRADES_MEASURED)
        history, new = trades[:size], trades[size:]
        ours = median_seconds(incremental(history, new), REPEATS) / TRADES_MEASURED
        # the reference grows with the tape: fewer repeats keep the run short
        reference = median_seconds(from_scratch(history, new), 1) / TRADES_MEASURED
        rows.append(
            [
                f"{size:,} trades on the tape",
                f"{ours * 1e6:,.1f}",
                f"{reference * 1e6:,.0f}",
                f"{reference / ours:,.0f}x",
            ]
        )
    print_table(
        "Local Kraken exchange: statistics work per trade (ohlc 1m + 24h ticker), µs, median",
        ["tape", "incremental (TapeStats)", "recomputed from the tape", "ratio"],
        rows,
    )


if __name__ == "__main__":
    main()
