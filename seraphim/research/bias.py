"""
Bias checks for any strategy on the Seraphim base, as freqtrade's lookahead and recursive
analyses do for its strategies:

- lookahead: the run is repeated on data cut at several points (the catalog itself is cut, so
  a strategy that reads data on its own sees only the past too); every order the full run sent
  up to a cut must be sent identically by the cut run. A strategy that peeks ahead decides
  differently when the future is missing.
- warm-up: the run is repeated starting later; once both runs have warmed up and hold the
  same positions, the orders that follow must be the same (time, side), or the results depend
  on how much history came before.

Positions are not flattened on stop in these runs, so a run's end sends no order of its own.
"""

from __future__ import annotations

import bisect
import tempfile
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import msgspec
import pandas as pd
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType

from seraphim.backtest.config import BacktestSpec
from seraphim.catalog.store import Provenance
from seraphim.catalog.store import SeraphimCatalog
from seraphim.research.trial import TrialResult
from seraphim.research.trial import TrialRunner
from seraphim.strategies.registry import get_strategy


@dataclass(frozen=True)
class Finding:
    check: str  # "lookahead" or "warm-up"
    at: pd.Timestamp  # the cut, or the later start
    detail: str


@dataclass
class BiasReport:
    lookahead_cuts: int = 0
    warmup_starts: int = 0  # later starts that could be compared (same positions at a time)
    orders: int = 0
    findings: list[Finding] = field(default_factory=list)
    settle_bars: int = 0  # bars a later start had to warm up before it was compared

    @property
    def biased(self) -> bool:
        return bool(self.findings)


def _without_stop_flattening(spec: BacktestSpec) -> BacktestSpec:
    strategies = []
    for entry in spec.strategies:
        fields = get_strategy(entry.name).config_cls.__struct_fields__
        params = dict(entry.params)
        if "close_positions_on_stop" in fields:
            params["close_positions_on_stop"] = False
        strategies.append(msgspec.structs.replace(entry, params=params))
    return msgspec.structs.replace(spec, strategies=strategies)


def _run(spec: BacktestSpec) -> TrialResult:
    with TrialRunner(spec) as runner:
        result = runner.run(0, {}, keep_detail=True)
    if result.status != "ok":
        raise BiasCheckError(f"the strategy failed: {result.reason}")
    return result


class BiasCheckError(RuntimeError):
    """The check could not run (no data, a failing strategy); not a verdict on bias."""


def _cut_catalog(spec: BacktestSpec, cut: int, folder: Path) -> SeraphimCatalog:
    """A copy of the spec's series holding only bars stamped at or before ``cut``."""
    source = SeraphimCatalog(spec.catalog, create=False)
    target = SeraphimCatalog(folder)
    for bar_type in spec.bar_types():
        (instrument,) = source.nautilus.instruments(instrument_ids=[str(bar_type.instrument_id)])
        # From the beginning when warm-up history is requested from the catalog.
        start = None if spec.warmup_from_catalog else spec.start
        bars = source.nautilus.query(Bar, identifiers=[str(bar_type)], start=start, end=cut)
        target.ingest(instrument, bars, Provenance(f"cut of {spec.catalog} at {cut}"))
    return target


def _with_catalog(spec: BacktestSpec, catalog: Path) -> BacktestSpec:
    """``spec`` reading ``catalog``; strategy parameters naming the old catalog follow it."""
    old = Path(spec.catalog).resolve()

    def follow(value: object) -> object:
        return str(catalog) if isinstance(value, str) and Path(value).resolve() == old else value

    strategies = [
        msgspec.structs.replace(entry, params={k: follow(v) for k, v in entry.params.items()})
        for entry in spec.strategies
    ]
    return msgspec.structs.replace(spec, catalog=str(catalog), strategies=strategies)


def _stamps(spec: BacktestSpec) -> list[int]:
    catalog = SeraphimCatalog(spec.catalog, create=False)
    first: BarType = spec.bar_types()[0]
    bars = catalog.nautilus.query(Bar, identifiers=[str(first)], start=spec.start, end=spec.end)
    return [bar.ts_event for bar in bars]


def _ts(ns: int) -> pd.Timestamp:
    return pd.Timestamp(ns, unit="ns", tz="UTC")


def check_lookahead(spec: BacktestSpec, full: TrialResult, cuts: list[int]) -> list[Finding]:
    findings = []
    for cut in cuts:
        with tempfile.TemporaryDirectory(prefix="seraphim-bias-") as folder:
            _cut_catalog(spec, cut, Path(folder))
            cut_spec = msgspec.structs.replace(
                _with_catalog(spec, Path(folder)), end=_ts(cut).isoformat()
            )
            truncated = _run(cut_spec)
        expected = [o for o in full.orders if o[0] <= cut]
        if truncated.orders != expected:
            findings.append(
                Finding("lookahead", _ts(cut), _first_difference(expected, truncated.orders))
            )
    return findings


def _states(result: TrialResult) -> tuple[list[int], list[tuple]]:
    """After each fill time (ns): the direction (-1, 0, 1) held per strategy and instrument."""
    fills = result.fills
    if fills is None or fills.empty:
        return [], []
    signed = fills["last_qty"].astype(float) * fills["order_side"].map({"BUY": 1.0, "SELL": -1.0})
    stamps = pd.to_datetime(fills["ts_event"], utc=True).astype("int64")
    key = fills["strategy_id"].astype(str) + " " + fills["instrument_id"].astype(str)
    frame = pd.DataFrame({"ts": stamps, "key": key, "qty": signed}).sort_values("ts", kind="stable")
    frame["position"] = frame.groupby("key")["qty"].cumsum()
    times, states, held = [], [], {}
    for ts, rows in frame.groupby("ts", sort=True):
        for row in rows.itertuples():
            held[row.key] = 0 if abs(row.position) < 1e-12 else (1 if row.position > 0 else -1)
        times.append(int(ts))
        states.append(tuple(sorted((k, v) for k, v in held.items() if v)))
    return times, states


def _state_at(history: tuple[list[int], list[tuple]], ts: int) -> tuple:
    times, states = history
    index = bisect.bisect_right(times, ts) - 1
    return states[index] if index >= 0 else ()


def check_warmup(
    spec: BacktestSpec, full: TrialResult, starts: list[int], settle: int
) -> tuple[list[Finding], int]:
    """
    From each later start: once ``settle`` ns have passed and both runs hold the same
    positions (direction per strategy and instrument), the orders that follow must match in
    time and side. Also returns how many starts reached such a moment.
    """
    findings, compared = [], 0
    full_history = _states(full)
    for start in starts:
        later = _run(msgspec.structs.replace(spec, start=_ts(start).isoformat()))
        later_history = _states(later)
        threshold = start + settle
        moments = sorted(
            {threshold} | {t for t in full_history[0] + later_history[0] if t >= threshold}
        )
        sync = next(
            (t for t in moments if _state_at(full_history, t) == _state_at(later_history, t)),
            None,
        )
        if sync is None:
            continue  # the runs never hold the same positions: nothing comparable
        compared += 1
        expected = [o[:2] + o[3:] for o in full.orders if o[0] > sync]
        actual = [o[:2] + o[3:] for o in later.orders if o[0] > sync]
        if expected != actual:
            findings.append(Finding("warm-up", _ts(start), _first_difference(expected, actual)))
    return findings, compared


def _first_difference(expected: list[tuple], actual: list[tuple]) -> str:
    for index, (want, got) in enumerate(zip(expected, actual, strict=False)):
        if want != got:
            return f"order {index}: {_order(got)} where the full run had {_order(want)}"
    if len(expected) > len(actual):
        return f"order {len(actual)} missing: the full run had {_order(expected[len(actual)])}"
    return f"extra order {len(expected)}: {_order(actual[len(expected)])}"


def _order(order: tuple) -> str:
    return f"{order[-1]} at {_ts(order[0])}"


def check_bias(
    spec: BacktestSpec, cuts: int = 4, starts: int = 2, settle_bars: int | None = None
) -> BiasReport:
    """
    Both checks over the spec's window: cuts in its second half, later starts in its first.
    A later start is compared once ``settle_bars`` bars have passed (default: a quarter of the
    window); indicators with a long memory (EMAs) need more to forget where they started.
    """
    spec = _without_stop_flattening(spec)
    stamps = _stamps(spec)
    n = len(stamps)
    if n < 20:
        raise BiasCheckError(f"only {n} bars in the window: too few to check")
    settle_bars = n // 4 if settle_bars is None else settle_bars
    if not 0 <= settle_bars < n - n // 4 - 1:  # the latest start is a quarter in
        raise BiasCheckError(f"settle {settle_bars} bars leaves nothing to compare in {n} bars")
    settle = stamps[settle_bars] - stamps[0]
    start_points = [stamps[(k + 1) * n // (4 * starts)] for k in range(starts)]
    full = _run(spec)
    # Cut where the full run sent orders: a strategy that needs the next bar to decide cannot
    # send the same order there when the next bar is missing.
    places = sorted({o[0] for o in full.orders if stamps[n // 2] <= o[0] < stamps[-1]})
    places = places or stamps[n // 2 : -1]
    cut_points = sorted({places[k * len(places) // cuts] for k in range(cuts)})
    warmup, compared = check_warmup(spec, full, start_points, settle)
    findings = check_lookahead(spec, full, cut_points) + warmup
    return BiasReport(len(cut_points), compared, len(full.orders), findings, settle_bars)
