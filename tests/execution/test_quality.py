"""Execution quality per parent order: the backtest's execution.csv and the live journal."""

from __future__ import annotations

import pandas as pd
from nautilus_trader.model.data import BarType

from seraphim.backtest.outputs import write_outputs
from seraphim.execution import exec_algorithm_configs
from seraphim.execution.quality import measure
from seraphim.journal.actor import JournalActor
from seraphim.journal.actor import JournalActorConfig
from seraphim.journal.rows import live_scope
from tests.journal.conftest import query
from tests.strategies.realdata import BTC
from tests.strategies.realdata import engine
from tests.strategies.realdata import run

from .backtest_helpers import algorithm
from .scripted import Scripted
from .scripted import ScriptedConfig

TWAP = {"duration_secs": 4 * 3600, "slices": 4, "jitter": 0.25, "seed": 3}


def test_measure_signs_and_opportunity_cost() -> None:
    # A buy filled at 101 against 100 costs 100 bps; a sell filled there gains them.
    assert measure(side=1, quantity=1, filled=1, arrival_px=100, avg_px=101, end_px=None) == (
        100.0,
        100.0,
    )
    assert measure(side=-1, quantity=1, filled=1, arrival_px=100, avg_px=101, end_px=None)[0] == (
        -100.0
    )
    # Half filled at arrival, the rest missed while the price rose 2 %: 100 bps of shortfall.
    slippage, shortfall = measure(
        side=1, quantity=2, filled=1, arrival_px=100, avg_px=100, end_px=102
    )
    assert slippage == 0.0 and abs(shortfall - 100.0) < 1e-9
    assert measure(side=1, quantity=1, filled=0, arrival_px=None, avg_px=None, end_px=1) == (
        None,
        None,
    )


def test_backtest_writes_execution_csv(real_catalog, tmp_path) -> None:
    params = {"fast": 5, "slow": 20, "trade_size": 0.5}
    strategy = {
        "name": "ma_cross",
        "params": {**params, "exec_algorithm_id": "TWAP", "exec_algorithm_params": TWAP},
    }
    outcome = run(real_catalog, tmp_path, [strategy], start="2022-03-01", end="2022-03-15")
    write_outputs(outcome)
    frame = pd.read_csv(tmp_path / "execution.csv")
    parents = outcome.orders[outcome.orders["exec_algorithm_id"] == "TWAP"]
    primaries = parents[parents.index == parents["exec_spawn_id"]]
    assert len(frame) == len(primaries) >= 4
    assert set(frame["algorithm"]) == {"TWAP"}
    # Parents still working when the run ended (in its last 4 hours) were cancelled by the
    # strategy's stop; the rest completed, in 4 children each.
    late = pd.to_datetime(frame["ts_arrival"]) > pd.Timestamp("2022-03-14 20:00", tz="UTC")
    assert (frame["status"] == "cancelled").tolist() == late.tolist() and late.any()
    done = frame[frame["status"] == "completed"]
    assert (done["filled"] == done["quantity"]).all() and (done["children"] == 4).all()
    # Every parent's fills, from nautilus's own fills report, give the CSV's average price.
    fills = outcome.fills
    for row in done.itertuples():
        ids = fills.index.to_series()
        family = fills[(ids == row.parent_id) | ids.str.startswith(f"{row.parent_id}-E")]
        qty = family["last_qty"].astype(float)
        avg = (qty * family["last_px"].astype(float)).sum() / qty.sum()
        assert abs(avg - row.avg_px) < 1e-6 * avg
        sign = 1 if row.side == "BUY" else -1
        assert abs(row.slippage_bps - sign * (avg / row.arrival_px - 1) * 1e4) < 1e-6


def test_live_runs_journal_execution_quality(real_catalog, journal_db, monkeypatch) -> None:
    dsn, schema = journal_db
    monkeypatch.setenv("SERAPHIM_TEST_EXEC_DSN", dsn)
    bar_type = BarType.from_str(BTC)
    built = engine(
        real_catalog,
        [BTC],
        start="2022-03-01",
        end="2022-03-04",
        account_type="CASH",
        exec_algorithms=exec_algorithm_configs(),
        trader_id="EXECQ-001",
    )
    built.add_actor(
        JournalActor(JournalActorConfig(dsn_env="SERAPHIM_TEST_EXEC_DSN", schema=schema))
    )
    built.add_strategy(
        Scripted(
            ScriptedConfig(
                instrument_id=bar_type.instrument_id,
                bar_type=bar_type,
                targets=((3, 1.0), (20, 0.0)),
                exec_algorithm_id="TWAP",
                exec_algorithm_params=TWAP,
            )
        )
    )
    built.run()
    rows = algorithm(built, "TWAP").quality
    built.dispose()  # the journal flushes
    stored = query(
        dsn,
        schema,
        "SELECT parent_id, side, filled, avg_px, slippage_bps, status FROM execution_quality "
        "WHERE scope = %s ORDER BY ts_arrival",
        (live_scope("EXECQ-001"),),
    )
    assert [(r.parent_id, r.side, r.status) for r in rows] == [(s[0], s[1], s[5]) for s in stored]
    assert len(stored) == 2
    for row, (_, _, filled, avg_px, slippage, _) in zip(rows, stored, strict=True):
        assert float(filled) == row.filled and abs(float(avg_px) - row.avg_px) < 1e-6
        assert abs(slippage - row.slippage_bps) < 1e-9
