"""
A second venue for cross-venue backtests, derived from a real series.

The catalog holds Kraken data only. To backtest a strategy that needs the same asset on two
venues (``cross_venue_arb``), ``derive_venue`` copies a real bar series to another venue and
re-prices it with a documented, deterministic spread process:

    B_t = A_t * (1 + s_t)      for open, high, low and close alike (volume unchanged)
    s_t = phi * s_(t-1) + sigma * e_t + J_t,   s_0 = 0
    e_t ~ N(0, 1);  J_t = +/- jump_size with probability jump_prob (sign 50/50), else 0

drawn from ``numpy.random.Generator(PCG64(seed))``. Everything about venue B's *prices* is thus
synthetic: what is real is venue A's price path underneath. The derived series is written
with synthetic provenance (reports mark it ``SYNTHETIC DATA``), and its instrument carries
``info["derived_from"]`` and the process parameters.

    python -m seraphim.backtest.derived --catalog catalog \\
        --bar-type BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL --venue ALT
"""

from __future__ import annotations

import argparse
from dataclasses import asdict
from dataclasses import dataclass

import numpy as np
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.instruments import CurrencyPair
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Quantity

from seraphim.catalog.store import Provenance
from seraphim.catalog.store import SeraphimCatalog


@dataclass(frozen=True)
class SpreadProcess:
    """The AR(1)-with-jumps process for venue B's relative premium over venue A."""

    seed: int = 11
    phi: float = 0.9
    sigma: float = 0.0015
    jump_prob: float = 0.02
    jump_size: float = 0.01

    def simulate(self, n: int) -> np.ndarray:
        rng = np.random.Generator(np.random.PCG64(self.seed))
        noise = rng.standard_normal(n)
        jumps = np.where(rng.random(n) < self.jump_prob, self.jump_size, 0.0)
        jumps *= np.where(rng.random(n) < 0.5, -1.0, 1.0)
        spread = np.empty(n)
        level = 0.0
        for t in range(n):
            level = self.phi * level + self.sigma * noise[t] + jumps[t]
            spread[t] = level
        return spread


def derived_instrument(
    instrument: Instrument, venue: str, process: SpreadProcess, taker_fee=None, maker_fee=None
) -> CurrencyPair:
    """``instrument`` listed on ``venue``: same precisions and limits, its own fees."""
    data = CurrencyPair.to_dict(instrument)
    data["id"] = f"{instrument.id.symbol}.{venue}"
    if taker_fee is not None:
        data["taker_fee"] = str(taker_fee)
    if maker_fee is not None:
        data["maker_fee"] = str(maker_fee)
    data["info"] = {
        "derived_from": str(instrument.id),
        "synthetic": True,
        "process": "B = A * (1 + s), s AR(1) with jumps",
        **asdict(process),
    }
    return CurrencyPair.from_dict(data)


def derive_bars(bars: list[Bar], instrument_b: Instrument, process: SpreadProcess) -> list[Bar]:
    """Venue B's bars: each of ``bars`` re-priced by ``1 + s_t`` (see the module docstring)."""
    spread = process.simulate(len(bars))
    out = []
    for bar, s in zip(bars, spread, strict=True):
        bar_type = BarType(instrument_b.id, bar.bar_type.spec, bar.bar_type.aggregation_source)
        factor = 1.0 + float(s)
        out.append(
            Bar(
                bar_type,
                instrument_b.make_price(bar.open.as_double() * factor),
                instrument_b.make_price(bar.high.as_double() * factor),
                instrument_b.make_price(bar.low.as_double() * factor),
                instrument_b.make_price(bar.close.as_double() * factor),
                Quantity(bar.volume.as_double(), bar.volume.precision),
                bar.ts_event,
                bar.ts_init,
            ),
        )
    return out


def derive_venue(
    catalog: SeraphimCatalog,
    bar_type: str | BarType,
    venue: str,
    process: SpreadProcess | None = None,
    start=None,
    end=None,
    taker_fee=None,
    maker_fee=None,
    replace: bool = False,
) -> BarType:
    """
    Write ``bar_type`` re-priced onto ``venue`` into ``catalog``; returns the new bar type.
    Bars already derived with other settings are an error unless ``replace``.
    """
    process = process or SpreadProcess()
    bar_type = BarType.from_str(str(bar_type))
    instrument = catalog.nautilus.instruments(instrument_ids=[str(bar_type.instrument_id)])[0]
    bars = catalog.nautilus.query(Bar, identifiers=[str(bar_type)], start=start, end=end)
    if not bars:
        raise ValueError(f"no bars {bar_type} in {catalog.path}")
    instrument_b = derived_instrument(instrument, venue, process, taker_fee, maker_fee)
    derived = derive_bars(bars, instrument_b, process)
    source = (
        f"derived from {bar_type}: B = A * (1 + s), s AR(1) with jumps "
        f"(seed {process.seed}, phi {process.phi}, sigma {process.sigma}, "
        f"jump {process.jump_size} w.p. {process.jump_prob})"
    )
    catalog.ingest(
        instrument_b,
        derived,
        Provenance(source, synthetic=True, details=asdict(process)),
        replace=replace,
    )
    return derived[0].bar_type


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--catalog", required=True)
    parser.add_argument("--bar-type", required=True)
    parser.add_argument("--venue", default="ALT")
    parser.add_argument("--seed", type=int, default=SpreadProcess.seed)
    parser.add_argument("--start")
    parser.add_argument("--end")
    parser.add_argument("--taker-fee", type=float, default=None)
    parser.add_argument("--replace", action="store_true", help="overwrite bars derived before")
    args = parser.parse_args(argv)
    bar_type = derive_venue(
        SeraphimCatalog(args.catalog),
        args.bar_type,
        args.venue,
        SpreadProcess(seed=args.seed),
        start=args.start,
        end=args.end,
        taker_fee=args.taker_fee,
        replace=args.replace,
    )
    print(f"wrote {bar_type} (synthetic, derived) into {args.catalog}")


if __name__ == "__main__":
    main()
