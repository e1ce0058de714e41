"""A runner's reused engine gives exactly what a fresh engine gives, trial after trial."""

from decimal import Decimal

from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.engine import BacktestEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.model.currencies import USD
from nautilus_trader.model.data import Bar
from nautilus_trader.model.data import BarType
from nautilus_trader.model.enums import AccountType
from nautilus_trader.model.enums import OmsType
from nautilus_trader.model.identifiers import Venue
from nautilus_trader.model.objects import Money

from seraphim.backtest.runner import run_backtest
from seraphim.catalog.store import SeraphimCatalog
from seraphim.research.reuse import clear_strategies
from seraphim.research.trial import TrialResult
from seraphim.research.trial import TrialRunner
from seraphim.research.trial import spec_with
from seraphim.strategies.ma_cross import MACross
from seraphim.strategies.ma_cross import MACrossConfig
from tests.research.conftest import BTC
from tests.research.conftest import SYNTHETIC_CATALOG
from tests.research.conftest import make_spec

# A guard that trips on a 5 % drawdown and flattens, and a volatility limit that holds orders
# back: the risk gate's market statistics, guard and counters and the RiskEngine's trading
# state must not carry over. Kraken's rolling fee tiers (the default) carry the run's volume:
# that must not either.
RISK = {
    "limits": {"max_volatility": 0.5, "volatility_window": 24},
    "guard": {"max_drawdown": 0.05, "flatten": True, "daily_reset": False},
}
TWO_MONTHS = ("2024-03-01", "2024-05-01")


def _spec(tmp_path, **extra):
    strategies = [{"name": "ma_cross", "params": {"fast": 10, "slow": 30, "trade_size": 1.0}}]
    return make_spec(
        SYNTHETIC_CATALOG, tmp_path, *TWO_MONTHS, strategies=strategies, venues=("KRAKEN",), **extra
    )


def _same(reused: TrialResult, fresh: TrialResult) -> None:
    assert (reused.status, reused.reason) == (fresh.status, fresh.reason)
    assert reused.metrics == fresh.metrics
    assert reused.orders == fresh.orders
    if fresh.fills is not None:
        # event ids are random UUIDs; everything else (trade ids, prices, fees) must match
        assert reused.fills.drop(columns="event_id").equals(fresh.fills.drop(columns="event_id"))
        assert reused.curves.equity.equals(fresh.curves.equity)


# (params, start, end): windows change, a trial trips the guard, a trial fails half-way
# (fast > slow is refused by ma_cross's config) and the next one must still run cleanly.
TRIALS = [
    ({"fast": 5, "slow": 20}, None, None),
    ({"fast": 8, "slow": 40}, None, None),
    ({"fast": 5, "slow": 20}, "2024-03-15", "2024-04-15"),
    ({"fast": 30, "slow": 10}, None, None),
    ({"fast": 12, "slow": 26}, None, None),
    ({"fast": 5, "slow": 20}, None, None),
]


def test_reused_engine_matches_fresh_engines(tmp_path):
    spec = _spec(tmp_path, risk=RISK)
    runner = TrialRunner(spec)
    try:
        reused = [
            runner.run(n, params, start, end, keep_detail=True)
            for n, (params, start, end) in enumerate(TRIALS)
        ]
    finally:
        runner.close()
    assert runner.engine_builds == 2  # the first trial's and a new one after the failed trial
    for n, (params, start, end) in enumerate(TRIALS):
        alone = TrialRunner(spec)
        try:
            _same(reused[n], alone.run(n, params, start, end, keep_detail=True))
        finally:
            alone.close()
    statuses = [r.status for r in reused]
    assert statuses == ["ok", "ok", "ok", "error", "ok", "ok"]
    # The checks above mean something only if the state that must not carry over was there.
    assert any(r.metrics["trades"] for r in reused if r.status == "ok")
    assert reused[0].metrics == reused[5].metrics  # same trial, first and last


def test_the_risk_state_that_must_not_carry_over_is_there(tmp_path):
    # Without a guard trip and a binding volatility limit, the test above would prove little.
    params, _, _ = TRIALS[0]
    alone = run_backtest(spec_with(_spec(tmp_path, risk=RISK), params))
    assert any(e["kind"] == "guard_trip" for e in alone.metrics["risk_events"])
    guard_only = {"guard": RISK["guard"]}
    unlimited = run_backtest(spec_with(_spec(tmp_path, risk=guard_only), params))
    assert unlimited.metrics["trades"] != alone.metrics["trades"]


def test_a_pruned_trial_leaves_the_engine_ready(tmp_path):
    spec = _spec(tmp_path)
    runner = TrialRunner(spec)
    try:
        before = runner.run(0, {"fast": 5, "slow": 20}, keep_detail=True)
        pruned = runner.run(1, {"fast": 8, "slow": 40}, checkpoint=lambda part, metrics: True)
        after = runner.run(2, {"fast": 5, "slow": 20}, keep_detail=True)
    finally:
        runner.close()
    assert pruned.status == "pruned"
    assert runner.engine_builds == 1
    after.number = before.number
    _same(after, before)


def test_reuse_holds_with_catalog_warmup(tmp_path):
    spec = _spec(tmp_path, warmup_from_catalog=True)
    runner = TrialRunner(spec)
    try:
        runs = [runner.run(n, {"fast": 5, "slow": 20}, keep_detail=True) for n in range(2)]
    finally:
        runner.close()
    runs[1].number = 0
    _same(runs[1], runs[0])


def test_cleared_strategies_leave_the_message_bus():
    # nautilus's clear_strategies leaves a disposed strategy's handlers subscribed (nautilus
    # issue #3967): every later run would still feed bars and events to each earlier strategy.
    catalog = SeraphimCatalog(SYNTHETIC_CATALOG)
    bar_type = BarType.from_str(BTC)
    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True)))
    engine.add_venue(Venue("KRAKEN"), OmsType.NETTING, AccountType.CASH, [Money(100_000, USD)])
    engine.add_instrument(catalog.nautilus.instruments(instrument_ids=["BTC/USD.KRAKEN"])[0])
    engine.add_data(catalog.nautilus.query(Bar, identifiers=[BTC], end="2024-02-01"))
    config = MACrossConfig(
        instrument_id=bar_type.instrument_id, bar_type=bar_type, trade_size=Decimal("0.5")
    )
    counts, fills = [], []
    try:
        for _ in range(4):
            engine.reset()
            clear_strategies(engine)
            engine.add_strategy(MACross(config))
            engine.run()
            counts.append(len(engine.kernel.msgbus.subscriptions()))
            fills.append(len(engine.cache.orders()))
    finally:
        engine.dispose()
    assert counts == [counts[0]] * 4
    assert fills == [fills[0]] * 4 and fills[0] > 0
