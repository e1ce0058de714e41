"""The risk layer in backtests: configs, metrics and report, the guard, reset, clipping."""

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from nautilus_trader.common.actor import Actor
from nautilus_trader.model.data import Bar

from seraphim.backtest.cli import backtest
from seraphim.backtest.config import parse_spec
from seraphim.backtest.recorder import EquityRecorder
from seraphim.backtest.runner import run_backtest
from seraphim.paths import REPO_ROOT
from seraphim.risk.config import RiskConfig
from seraphim.risk.controller import RiskController
from seraphim.risk.messages import RISK_COMMAND_ENDPOINT
from seraphim.risk.messages import RiskCommand

BTC = "BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL"


def test_tight_risk_config_shows_denials_by_rule_and_a_guard_trip(tmp_path):
    result = CliRunner().invoke(
        backtest, ["run", str(REPO_ROOT / "configs/tight_risk.yaml"), "--output", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "Denied orders" in result.output and "Guard trips" in result.output
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    denied = metrics["denied_orders"]
    for rule in (
        "max_position",
        "max_order_notional",
        "liquidity",
        "volatility",
        "gross_leverage",
        "daily_loss",
        "guard",
    ):
        assert denied.get(rule, 0) > 0, (rule, denied)
    trips = [e for e in metrics["risk_events"] if e["kind"] == "guard_trip"]
    assert len(trips) == 1 and trips[0]["rule"] == "max_drawdown"
    assert metrics["risk"]["trading_state"] == "HALTED"
    # The guard tripped at 10 %: the hourly equity curve (sampled after strategies traded, the
    # guard also samples before) stayed above it until then and reached it there.
    equity = pd.read_csv(tmp_path / "equity.csv", index_col=0, parse_dates=True)["equity"]
    drawdown = equity / equity.cummax() - 1
    trip_ts = pd.Timestamp(trips[0]["ts"])
    assert drawdown[drawdown.index < trip_ts].min() > -0.10
    assert drawdown[trip_ts] <= -0.095
    # Flattened and halted: nothing filled after the trip but the flattening itself.
    fills = pd.read_csv(tmp_path / "fills.csv")
    after = pd.to_datetime(fills["ts_event"], utc=True) > pd.Timestamp(trips[0]["ts"])
    assert not after.any()
    # Orders report agrees with the counts (each denial is a nautilus OrderDenied).
    orders = pd.read_csv(tmp_path / "orders.csv")
    assert (orders["status"] == "DENIED").sum() == sum(denied.values())
    report = (tmp_path / "report.html").read_text()
    assert "<h2>Risk</h2>" in report
    for rule in denied:
        assert f"<th>{rule}</th>" in report
    assert "guard tripped by max_drawdown" in report


def test_config_errors_in_the_risk_section():
    from seraphim.backtest.config import ConfigError

    base = {
        "data": [{"bar_type": BTC}],
        "strategies": [{"name": "ma_cross"}],
    }
    with pytest.raises(ConfigError, match="max_drawdown must be in"):
        parse_spec({**base, "risk": {"guard": {"max_drawdown": 1.5}}})
    with pytest.raises(ConfigError, match="max_gross_leverage must be >= 0"):
        parse_spec(
            {**base, "strategies": [{"name": "ma_cross", "risk": {"max_gross_leverage": -1}}]}
        )
    with pytest.raises(ConfigError, match="max_positoin"):
        parse_spec({**base, "risk": {"limits": {"max_positoin": 1}}})


def spec(catalog, out, params, risk, start="2021-01-01", end="2021-07-01", account="MARGIN"):
    return parse_spec(
        {
            "catalog": str(catalog.path),
            "output": str(out),
            "start": start,
            "end": end,
            "venues": [
                {
                    "name": "KRAKEN",
                    "account_type": account,
                    "starting_balances": ["1000000 USD"],
                    "fill_model": {"prob_slippage": 0.0},
                }
            ],
            "data": [{"bar_type": BTC}],
            "strategies": [{"name": "ma_cross", "params": params}],
            "risk": risk,
        }
    )


def test_guard_on_real_bars_trips_at_the_first_crossing_and_flattens(real_btc_catalog, tmp_path):
    outcome = run_backtest(
        spec(
            real_btc_catalog,
            tmp_path,
            {"fast": 12, "slow": 48, "ma_type": "ema", "long_only": False, "trade_size": 6},
            {"guard": {"max_drawdown": 0.05, "action": "HALTED", "flatten": True}},
        )
    )
    events = outcome.metrics["risk_events"]
    trip = next(e for e in events if e["kind"] == "guard_trip")
    # Independently: the margin account's equity at every point the guard samples it, i.e. at
    # each bar close before trading (old position marked at the new close) and after each fill.
    bars = real_btc_catalog.nautilus.query(
        Bar, identifiers=[BTC], start="2021-01-01", end="2021-07-01"
    )
    fills = outcome.fills.assign(n=outcome.fills.index.str.rsplit("-", n=1).str[-1].astype(int))
    fill_rows = list(fills.sort_values(["ts_event", "n"]).itertuples())  # execution order
    cash, position, samples, k = 1_000_000.0, 0.0, [], 0
    for bar in bars:
        close = bar.close.as_double()
        ts = pd.Timestamp(bar.ts_event, unit="ns", tz="UTC")
        samples.append((ts, cash + position * close))
        while k < len(fill_rows) and pd.Timestamp(fill_rows[k].ts_event) == ts:
            row = fill_rows[k]
            side = 1 if row.order_side == "BUY" else -1
            qty, px = float(row.last_qty), float(row.last_px)
            fee = float(str(row.commission).split()[0])
            cash -= side * qty * px + fee
            position += side * qty
            samples.append((ts, cash + position * close))
            k += 1
    curve = pd.DataFrame(samples, columns=["ts", "equity"])
    crossed = curve["equity"] <= curve["equity"].cummax() * 0.95
    assert crossed.any()
    first = curve.loc[crossed.idxmax()]
    assert first["ts"] == pd.Timestamp(trip["ts"])
    assert f"equity {first['equity']:,.2f}" in trip["detail"]
    assert [e["kind"] for e in events] == [
        "guard_trip",
        "trading_state",
        "flatten",
        "trading_state",
    ]
    assert events[-1]["state"] == "HALTED"
    fills = outcome.fills
    stamps = pd.to_datetime(fills["ts_event"], utc=True)
    assert stamps.max() == pd.Timestamp(trip["ts"])  # the flattening was the last fill
    signed = fills["last_qty"].astype(float) * fills["order_side"].map({"BUY": 1, "SELL": -1})
    assert abs(signed.sum()) < 1e-9
    # The strategy asks the risk layer before trading (clip_to_risk): halted, it sends nothing.
    assert outcome.metrics["denied_orders"] == {}
    assert outcome.metrics["risk"]["trading_state"] == "HALTED"


class OperatorReset(Actor):
    def __init__(self, when):
        super().__init__()
        self.when = when

    def on_start(self):
        self.clock.set_time_alert(
            "reset",
            self.when,
            lambda _: self.msgbus.send(RISK_COMMAND_ENDPOINT, RiskCommand("reset", "alice")),
        )


def test_operator_reset_after_a_trip_resumes_trading(real_btc_catalog):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1]))
    from strategies.realdata import engine
    from strategies.test_framework import ma_cross

    risk = RiskConfig(guard={"max_drawdown": 0.03, "action": "HALTED"})
    built = engine(real_btc_catalog, [BTC], "2021-01-01", "2021-04-01", risk=risk)
    strategy = ma_cross(trade_size=None, equity_fraction=3.0, long_only=False)
    built.add_strategy(strategy)
    built.run(end=pd.Timestamp("2021-04-01", tz="UTC"))
    gate = next(a for a in built.trader.actors() if isinstance(a, RiskController)).gate
    trip = next(e for e in gate.events if e.kind == "guard_trip")
    trip_ts = pd.Timestamp(trip.ts, unit="ns", tz="UTC")
    built.dispose()

    reset_at = trip_ts + pd.Timedelta(days=3, minutes=30)
    again = engine(real_btc_catalog, [BTC], "2021-01-01", "2021-04-01", risk=risk)
    again.add_actor(OperatorReset(reset_at))
    again.add_strategy(ma_cross(trade_size=None, equity_fraction=3.0, long_only=False))
    again.run()
    gate = next(a for a in again.trader.actors() if isinstance(a, RiskController)).gate
    fills = again.trader.generate_fills_report()
    kinds = [(e.kind, e.state) for e in gate.events]
    again.dispose()
    assert kinds[:3] == [
        ("guard_trip", "HALTED"),
        ("trading_state", "HALTED"),
        ("guard_reset", "ACTIVE"),
    ]
    assert kinds[3] == ("trading_state", "ACTIVE")
    stamps = pd.to_datetime(fills["ts_event"], utc=True)
    halted = (stamps > trip_ts) & (stamps < reset_at)
    assert not halted.any() and (stamps > reset_at).any()  # nothing while halted, trades after


def test_clip_to_risk_trades_at_the_limit_instead_of_being_denied(real_btc_catalog, tmp_path):
    start, end = "2021-01-01", "2021-04-01"
    outcome = run_backtest(
        spec(
            real_btc_catalog,
            tmp_path,
            {"fast": 10, "slow": 30, "trade_size": 1.0},
            {"strategies": {"MACross-000": {"max_position_qty": 0.3}}},
            start=start,
            end=end,
            account="CASH",
        )
    )
    assert outcome.metrics["denied_orders"] == {}
    bars = real_btc_catalog.nautilus.query(Bar, identifiers=[BTC], start=start, end=end)
    close = pd.Series(
        [b.close.as_double() for b in bars],
        index=pd.to_datetime([b.ts_event for b in bars], unit="ns", utc=True),
    )
    fast, slow = close.rolling(10).mean(), close.rolling(30).mean()
    wanted = pd.Series(np.nan, index=close.index)
    wanted[fast > slow], wanted[fast < slow] = 0.3, 0.0
    expected = wanted.ffill().fillna(0.0)
    fills = outcome.fills
    signed = fills["last_qty"].astype(float) * fills["order_side"].map({"BUY": 1, "SELL": -1})
    held = signed.groupby(pd.to_datetime(fills["ts_event"], utc=True).to_numpy()).sum().cumsum()
    actual = held.reindex(close.index, method="ffill").fillna(0.0)
    assert ((expected - actual).abs().iloc[:-1] < 1e-9).all()
    assert (expected == 0.3).any()


def test_volatility_scale_sizes_down_in_turbulence(real_btc_catalog, tmp_path):
    """equity_fraction 0.5 wants 50 % of equity; above 60 % annualised volatility the rule caps
    the position at 50 % * 0.6 / vol (clip_to_risk turns the cap into smaller orders)."""
    start, end = "2021-01-01", "2021-03-01"
    outcome = run_backtest(
        spec(
            real_btc_catalog,
            tmp_path,
            {"fast": 10, "slow": 30, "equity_fraction": 0.5, "rebalance_band": 0.0},
            {
                "limits": {
                    "max_volatility": 0.6,
                    "volatility_action": "scale",
                    "volatility_scale_pct": 0.5,
                    "volatility_window": 48,
                }
            },
            start=start,
            end=end,
            account="CASH",
        )
    )
    bars = real_btc_catalog.nautilus.query(Bar, identifiers=[BTC], start=start, end=end)
    close = pd.Series(
        [b.close.as_double() for b in bars],
        index=pd.to_datetime([b.ts_event for b in bars], unit="ns", utc=True),
    )
    vol = np.log(close).diff().rolling(48).std() * math.sqrt(365.25 * 24)
    fills = outcome.fills
    signed = fills["last_qty"].astype(float) * fills["order_side"].map({"BUY": 1, "SELL": -1})
    stamps = pd.to_datetime(fills["ts_event"], utc=True)
    held = signed.groupby(stamps.to_numpy()).sum().cumsum()
    equity = outcome.curves.equity
    scaled = 0
    for ts, position in held.items():
        if position <= 1e-9 or ts == held.index[-1]:
            continue
        value = position * close[ts]
        full = 0.5 * equity[ts]  # equity marked at this close (after this bar's fees)
        if vol[ts] > 0.6:
            cap = full * 0.6 / vol[ts]
            assert value <= cap * 1.01, (ts, value, cap)
            scaled += 1
        else:
            assert value == pytest.approx(full, rel=0.02)
    assert scaled > 5
    assert outcome.metrics["denied_orders"] == {}


def test_gate_off_passes_everything(real_btc_catalog, tmp_path):
    outcome = run_backtest(
        spec(
            real_btc_catalog,
            tmp_path,
            {"fast": 10, "slow": 30, "trade_size": 1.0, "clip_to_risk": False},
            {"enabled": False, "limits": {"max_position_qty": 0.1}},
            start="2021-01-01",
            end="2021-02-01",
        )
    )
    assert outcome.metrics["denied_orders"] == {} and outcome.metrics["risk"]["orders_checked"] == 0
    assert outcome.fills["last_qty"].astype(float).max() == 1.0


def test_per_strategy_daily_loss_blocks_only_that_strategy(real_btc_catalog, tmp_path):
    """MACross-000 may lose 0.3 % of the day's starting equity per UTC day; once it has, its
    orders that add exposure are denied until the next day. Bollinger-001 trades on."""
    start, end = "2021-01-01", "2021-03-01"
    outcome = run_backtest(
        parse_spec(
            {
                "catalog": str(real_btc_catalog.path),
                "output": str(tmp_path),
                "start": start,
                "end": end,
                "venues": [
                    {
                        "name": "KRAKEN",
                        "account_type": "MARGIN",
                        "starting_balances": ["1000000 USD"],
                        "fill_model": {"prob_slippage": 0.0},
                    }
                ],
                "data": [{"bar_type": BTC}],
                "strategies": [
                    {
                        "name": "ma_cross",
                        "params": {
                            "fast": 5,
                            "slow": 15,
                            "long_only": False,
                            "trade_size": 3.0,
                            "clip_to_risk": False,
                        },
                        "risk": {"max_daily_loss": 0.003},
                    },
                    {"name": "bollinger", "params": {"trade_size": 1.0, "clip_to_risk": False}},
                ],
            }
        )
    )
    samples = outcome.metrics["risk"]["denial_samples"]["daily_loss"]
    assert outcome.metrics["denied_orders"]["daily_loss"] >= 3
    assert all(reason.startswith("daily_loss [MACross-000]") for reason in samples)
    orders = outcome.orders
    denied = orders[orders["status"] == "DENIED"]
    assert set(denied["strategy_id"]) == {"MACross-000"}

    # Independently: MACross-000's marked PnL from its own fills, before trading at each bar.
    bars = real_btc_catalog.nautilus.query(Bar, identifiers=[BTC], start=start, end=end)
    fills = outcome.fills[outcome.fills["strategy_id"] == "MACross-000"]
    fills = fills.assign(n=fills.index.str.rsplit("-", n=1).str[-1].astype(int))
    rows = list(fills.sort_values(["ts_event", "n"]).itertuples())
    cash = position = 0.0
    before, after, k = {}, {}, 0
    for bar in bars:
        ts = pd.Timestamp(bar.ts_event, unit="ns", tz="UTC")
        close = bar.close.as_double()
        before[ts] = cash + position * close
        while k < len(rows) and pd.Timestamp(rows[k].ts_event) == ts:
            side = 1 if rows[k].order_side == "BUY" else -1
            cash -= side * float(rows[k].last_qty) * float(rows[k].last_px)
            cash -= float(str(rows[k].commission).split()[0])
            position += side * float(rows[k].last_qty)
            k += 1
        after[ts] = cash + position * close
    after = pd.Series(after)
    equity = outcome.curves.equity
    for ts in pd.to_datetime(denied["ts_init"], unit="ns", utc=True):
        previous_day = after[after.index < ts.normalize()]
        day_start_pnl = previous_day.iloc[-1] if len(previous_day) else 0.0
        day_start_equity = equity[equity.index < ts.normalize()].iloc[-1]
        loss = (day_start_pnl - before[ts]) / day_start_equity
        assert loss >= 0.003 * 0.99, (ts, loss)


def test_equity_recorder_takes_the_gates_valuation_which_is_its_own(
    real_btc_catalog, tmp_path, monkeypatch
):
    # With a guard the gate values the account at every bar; the recorder takes those figures
    # instead of valuing the same holdings again: each must equal the recorder's own valuation.
    taken, differ = [], []
    on_bar = EquityRecorder.on_bar

    def checked_on_bar(recorder, bar):
        on_bar(recorder, bar)
        gate = recorder._gate
        taken.append(gate is not None and gate.bars_seen == recorder._bars)
        row = recorder.equity[-1]
        recorder.sample(bar.ts_event)  # its own valuation replaces the row of the same ts
        if recorder.equity[-1] != row:
            differ.append((row, recorder.equity[-1]))

    monkeypatch.setattr(EquityRecorder, "on_bar", checked_on_bar)
    run_backtest(
        spec(
            real_btc_catalog,
            tmp_path,
            {"fast": 12, "slow": 48, "ma_type": "ema", "long_only": False, "trade_size": 6},
            {"guard": {"max_drawdown": 0.5}},
        )
    )
    assert len(taken) > 4000 and all(taken)
    assert differ == []


def test_within_proofs_answer_clipping_questions_without_changing_a_trade(
    real_btc_catalog, tmp_path, monkeypatch
):
    """A strategy clipping to its headroom asks every bar whether prices pushed its position
    beyond a limit that shrinks; the gate answers from a proof while it holds. The trades are
    exactly those of evaluating every rule every time, including the cuts back to the limit."""
    import seraphim.risk.gate as gate_module
    from seraphim.risk.rules import WithinProof

    def run(out):
        return run_backtest(
            spec(
                real_btc_catalog,
                out,
                {"fast": 10, "slow": 30, "trade_size": 1.0, "long_only": False},
                # 1 BTC is 2.9 % of equity in January 2021, beyond 4.5 % from February.
                {"limits": {"max_position_pct": 0.045, "max_asset_pct": 0.05}},
                start="2021-01-01",
                end="2021-04-01",
            )
        ).fills

    answered = []
    holds = WithinProof.holds

    def counting_holds(self, equity, unit_value):
        answered.append(holds(self, equity, unit_value))
        return answered[-1]

    monkeypatch.setattr(WithinProof, "holds", counting_holds)
    proven = run(tmp_path / "proven")
    assert sum(answered) > 500  # most bars answered from a proof

    monkeypatch.setattr(gate_module, "within_proof", lambda *args: None)
    exact = run(tmp_path / "exact")
    columns = ["ts_event", "order_side", "last_qty", "last_px"]
    pd.testing.assert_frame_equal(proven[columns], exact[columns])
    # Prices did push positions beyond the limit, and the strategy cut back to it.
    sides = exact["order_side"].tolist()
    assert any(a == b for a, b in itertools.pairwise(sides))
