"""
The strategy framework on real bars: warm-up, several strategies side by side, runtime
control (pause, resume, parameter changes), saved state through a real Redis, and sizing.
"""

import shutil
import socket
import subprocess
import time
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from nautilus_trader.common.actor import Actor
from nautilus_trader.model.data import BarType
from nautilus_trader.model.identifiers import InstrumentId

from seraphim.strategies.control import CONTROL_EVENT_TOPIC
from seraphim.strategies.control import send_control
from seraphim.strategies.ma_cross import MACross
from seraphim.strategies.ma_cross import MACrossConfig
from seraphim.strategies.registry import all_strategies

from .realdata import BTC
from .realdata import ETH
from .realdata import assert_positions_match
from .realdata import engine
from .realdata import ohlcv
from .realdata import positions
from .realdata import run
from .realdata import venue

LIBRARY = {
    "ma_cross",
    "rsi_reversal",
    "bollinger",
    "momentum",
    "mean_reversion",
    "pairs",
    "cross_venue_arb",
}


def test_registry_lists_the_seven_strategies_with_rules_in_their_docstrings():
    specs = {spec.name: spec for spec in all_strategies()}
    assert set(specs) >= LIBRARY
    for name in LIBRARY:
        doc = specs[name].strategy_cls.__doc__
        assert "Rules" in doc or "rules" in doc or "->" in doc, name
        assert specs[name].description
        names = {param for param, _, _ in specs[name].parameters()}
        assert {"instrument_id", "bar_type", "trade_size", "clip_to_risk"} <= names


def test_cli_list_shows_all_seven():
    from click.testing import CliRunner

    from seraphim.strategies.cli import strategies

    result = CliRunner().invoke(strategies, ["list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name in LIBRARY:
        assert name in result.output
    assert "entry_z" in result.output and "exit_spread" in result.output  # parameters shown


def sma_cross_positions(close: pd.Series, fast: int, slow: int) -> pd.Series:
    fast_ma, slow_ma = close.rolling(fast).mean(), close.rolling(slow).mean()
    wanted = pd.Series(np.nan, index=close.index)
    wanted[fast_ma > slow_ma] = 1.0
    wanted[fast_ma < slow_ma] = 0.0
    return wanted.ffill().fillna(0.0)


def test_warmup_requests_history_so_the_first_bar_already_trades(real_catalog, tmp_path):
    """A run starting mid-history asks for `slow` past bars on start (answered from the
    catalog, as a live venue answers it), so its first bar already has both averages."""
    start, end = "2021-02-10", "2021-04-01"
    outcome = run(
        real_catalog,
        tmp_path,
        [{"name": "ma_cross", "params": {"fast": 10, "slow": 30, "trade_size": 0.1}}],
        start=start,
        end=end,
        warmup_from_catalog=True,
    )
    history = ohlcv(real_catalog, start="2021-01-01", end=end)["close"]
    expected = 0.1 * sma_cross_positions(history, 10, 30)[start:]
    actual = positions(outcome, expected.index)
    assert expected.iloc[0] == 0.1  # long from the very first bar of the run
    assert_positions_match(expected, actual, min_changes=4)


def test_strategies_side_by_side_do_not_interfere(real_catalog, tmp_path):
    """Three strategies, two on the same instrument, in one run: each one's fills are exactly
    what it does alone, and each one's positions are its own."""
    start, end = "2021-01-01", "2021-03-01"
    entries = [
        {"name": "ma_cross", "params": {"fast": 10, "slow": 30, "trade_size": 0.1}},
        {"name": "mean_reversion", "params": {"window": 24, "trade_size": 0.2}},
        {
            "name": "rsi_reversal",
            "params": {"instrument_id": "ETH/USD.KRAKEN", "bar_type": ETH, "trade_size": 2.0},
        },
    ]
    together = run(real_catalog, tmp_path / "all", entries, data=(BTC, ETH), start=start, end=end)
    index = ohlcv(real_catalog, start=start, end=end).index
    ids = ["MACross-000", "MeanReversion-001", "RSIReversal-002"]
    for number, (entry, strategy_id) in enumerate(zip(entries, ids, strict=True)):
        alone_entry = {**entry, "params": {**entry["params"], "order_id_tag": f"{number:03d}"}}
        alone = run(
            real_catalog,
            tmp_path / strategy_id,
            [alone_entry],
            data=(BTC, ETH),
            start=start,
            end=end,
        )
        instrument = entry["params"].get("instrument_id", "BTC/USD.KRAKEN")
        mine = positions(together, index, instrument, strategy_id)
        solo = positions(alone, index, instrument, strategy_id)
        assert (solo.diff().abs() > 0).sum() > 4
        assert_positions_match(solo, mine, min_changes=4)
    # The positions report keeps one position per strategy and instrument (NETTING per strategy).
    report = together.positions
    assert set(report["strategy_id"]) == set(ids)
    btc = report[report["instrument_id"] == "BTC/USD.KRAKEN"]
    assert set(btc["strategy_id"]) == {"MACross-000", "MeanReversion-001"}


class ControlScript(Actor):
    """Publishes control commands at given times, as an operator would on a live node."""

    def __init__(self, script: list[tuple[pd.Timestamp, str, str, dict]]):
        super().__init__()
        self.script = script
        self.events = []

    def on_start(self):
        self.msgbus.subscribe(CONTROL_EVENT_TOPIC, self.events.append)
        for number, (when, strategy_id, action, kwargs) in enumerate(self.script):
            self.clock.set_time_alert(
                f"control-{number}",
                when,
                lambda _, s=strategy_id, a=action, k=kwargs: send_control(self.msgbus, s, a, **k),
            )


def ma_cross(fast=10, slow=30, **params) -> MACross:
    return MACross(
        MACrossConfig(
            instrument_id=InstrumentId.from_str("BTC/USD.KRAKEN"),
            bar_type=BarType.from_str(BTC),
            fast=fast,
            slow=slow,
            **({"trade_size": Decimal("0.1")} | params),
        ),
    )


def test_pause_resume_and_parameter_change_while_running(real_catalog):
    start, end = "2021-01-01", "2021-04-01"
    pause, resume = pd.Timestamp("2021-01-20 10:30", tz="UTC"), pd.Timestamp("2021-01-27 20:30")
    resume = resume.tz_localize("UTC")
    change = pd.Timestamp("2021-02-15 12:30", tz="UTC")
    built = engine(real_catalog, [BTC], start, end)
    strategy = ma_cross()
    script = ControlScript(
        [
            (pause, "MACross-000", "pause", {"flatten": True}),
            (resume, "MACross-000", "resume", {}),
            (change, "MACross-000", "set_params", {"params": {"fast": 5}}),
            (
                change + pd.Timedelta(minutes=5),
                "MACross-000",
                "set_params",
                {"params": {"fast": 40}},
            ),
            (change + pd.Timedelta(minutes=6), "MACross-000", "set_params", {"params": {"x": 1}}),
            (change + pd.Timedelta(minutes=7), "all", "set_params", {"params": {"slow": 32}}),
            (change + pd.Timedelta(minutes=8), "all", "set_params", {"params": {"slow": 30}}),
        ]
    )
    built.add_actor(script)
    built.add_strategy(strategy)
    built.run()
    fills = built.trader.generate_fills_report()
    built.dispose()

    close = ohlcv(real_catalog, start=start, end=end)["close"]
    before = 0.1 * sma_cross_positions(close, 10, 30)
    after = 0.1 * sma_cross_positions(close, 5, 30)
    expected = before.copy()
    paused = (expected.index > pause) & (expected.index < resume)
    expected[paused] = 0.0  # flattened on pause, nothing traded while paused
    expected[expected.index > change] = after[after.index > change]
    actual = positions(fills, close.index)
    assert_positions_match(expected, actual)
    stamps = pd.to_datetime(fills["ts_event"], utc=True)
    assert not ((stamps > pause + pd.Timedelta(minutes=1)) & (stamps < resume)).any()
    assert before[paused].max() == 0.1  # it would have been long during the pause

    assert strategy.params.fast == 5 and strategy.params.slow == 30
    outcomes = [(e.action, e.accepted) for e in strategy.control_events]
    assert outcomes == [
        ("pause", True),
        ("resume", True),
        ("set_params", True),
        ("set_params", False),  # fast 40 >= slow 30: rejected, nothing changed
        ("set_params", False),  # unknown parameter
        ("set_params", True),
        ("set_params", True),
    ]
    assert "fast (40) must be less than slow" in strategy.control_events[3].detail
    assert "re-warmed" in strategy.control_events[2].detail
    assert [e.action for e in script.events] == [a for a, _ in outcomes]  # published on the bus


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory):
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [server, "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as client:
            if client.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    yield port
    process.terminate()
    process.wait(timeout=10)


def mean_reversion(**params):
    from seraphim.strategies.mean_reversion import MeanReversion
    from seraphim.strategies.mean_reversion import MeanReversionConfig

    return MeanReversion(
        MeanReversionConfig(
            instrument_id=InstrumentId.from_str("BTC/USD.KRAKEN"),
            bar_type=BarType.from_str(BTC),
            long_only=False,
            **params,
        )
    )


def test_state_survives_a_restart_through_a_redis_cache(real_catalog, redis_port):
    import redis
    from nautilus_trader.config import CacheConfig
    from nautilus_trader.config import DatabaseConfig

    cache = CacheConfig(
        database=DatabaseConfig(type="redis", host="127.0.0.1", port=redis_port),
        encoding="msgpack",
        buffer_interval_ms=None,
    )
    start, end = "2021-01-01", "2021-03-01"
    first = engine(real_catalog, [BTC], start, end, trader_id="SERAPHIM-001", cache=cache)
    strategy = mean_reversion(kelly_scale=0.5, kelly_min_trades=2, close_positions_on_stop=False)
    first.add_strategy(strategy)
    when = pd.Timestamp("2021-02-20 10:30", tz="UTC")
    first.add_actor(
        ControlScript(
            [
                (when, "MeanReversion-000", "set_params", {"params": {"window": 36}}),
                (when, "MeanReversion-000", "pause", {}),
            ]
        )
    )
    first.run()
    trades = list(strategy.sizer.returns)
    assert len(trades) >= 5 and strategy.state != 0  # paused while holding a position
    first.trader.save()  # nautilus: cache.update_strategy -> Strategy.on_save -> Redis
    first.dispose()
    keys = redis.Redis(port=redis_port).keys("trader-SERAPHIM-001:strategies:*")
    assert b"trader-SERAPHIM-001:strategies:MeanReversion-000:state" in keys

    second = engine(real_catalog, [BTC], start, end, trader_id="SERAPHIM-001", cache=cache)
    restored = mean_reversion(kelly_scale=0.5, kelly_min_trades=2)
    second.add_strategy(restored)
    assert (restored.params.window, restored.paused, restored.state) == (48, False, 0)
    second.trader.load()  # nautilus: cache.load_strategy -> Strategy.on_load
    assert restored.params.window == 36 and restored.zscore.period == 36
    assert restored.paused and restored.state == strategy.state
    assert list(restored.sizer.returns) == pytest.approx(trades)
    second.dispose()


def test_atr_volatility_targeting_sizes_each_entry(real_catalog, tmp_path):
    """Each entry's quantity = atr_risk * equity / ATR(14) at that bar (nautilus ATR: simple
    average of the true range), checked against pandas."""
    start, end = "2021-01-01", "2021-03-01"
    outcome = run(
        real_catalog,
        tmp_path,
        [{"name": "ma_cross", "params": {"fast": 10, "slow": 30, "atr_risk": 0.002}}],
        venues=[venue(balance="100000 USD")],
        start=start,
        end=end,
        warmup_from_catalog=True,
    )
    bars = ohlcv(real_catalog, start="2020-12-01", end=end)
    previous = bars["close"].shift(1).fillna(bars["close"])
    true_range = np.maximum(bars["high"], previous) - np.minimum(bars["low"], previous)
    atr = true_range.rolling(14).mean()
    fills = outcome.fills
    signed = fills["last_qty"].astype(float) * fills["order_side"].map({"BUY": 1, "SELL": -1})
    held_before = signed.cumsum() - signed
    entries = fills[(held_before.abs() < 1e-12) & (fills["order_side"] == "BUY")]
    # Between entries the size is only topped up beyond the 5 % rebalance band.
    top_ups = fills[(held_before.abs() > 1e-12) & (signed > 0)]
    assert (top_ups["last_qty"].astype(float) > 0.05 * held_before[top_ups.index] - 1e-8).all()
    account = outcome.accounts["KRAKEN"]
    usd = account[account["currency"] == "USD"]["total"].astype(float)
    assert len(entries) > 5
    for row in entries.itertuples():
        ts = pd.Timestamp(row.ts_event)
        cash = usd[usd.index < ts].iloc[-1]  # flat before an entry: equity is the USD balance
        wanted = 0.002 * cash / atr[ts]
        assert float(row.last_qty) == pytest.approx(wanted, rel=1e-6, abs=1e-8)


def test_kelly_fraction_from_rolling_trades():
    from seraphim.risk.sizing import KellySizer

    sizer = KellySizer(scale=0.5, cap=0.25, window=4, min_trades=3, default_fraction=0.02)
    assert sizer.fraction() == 0.02  # too few trades yet
    for r in (0.10, -0.05, 0.10):
        sizer.record_trade(r)
    # W = 2/3, R = 0.10 / 0.05 = 2: f* = 2/3 - (1/3)/2 = 0.5; half Kelly 0.25 = the cap
    assert sizer.kelly() == pytest.approx(0.5)
    assert sizer.fraction() == pytest.approx(0.25)
    sizer.record_trade(-0.10)  # W = 1/2, R = 0.1 / 0.075: f* = 0.5 - 0.5 / (4/3) = 0.125
    assert sizer.fraction() == pytest.approx(0.0625)
    for _ in range(4):  # the window rolls: only losses -> nothing
        sizer.record_trade(-0.01)
    assert sizer.fraction() == 0.0
