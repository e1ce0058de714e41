"""
`seraphim parity` end to end on a month of real Kraken hourly bars: the backtest and a
TradingNode trading the local exchange's replay of the same bars, in lockstep.
"""

import json

import pytest
import yaml
from click.testing import CliRunner

from seraphim.adapters.kraken.ingest import ingest_kraken_ohlcvt
from seraphim.catalog.store import SeraphimCatalog
from seraphim.cli import main

BTC = "BTC/USD.KRAKEN-1-HOUR-LAST-EXTERNAL"
START, END = "2022-03-01", "2022-04-01"


@pytest.fixture(scope="module")
def btc_catalog(tmp_path_factory, shared_data):
    catalog = SeraphimCatalog(tmp_path_factory.mktemp("parity_catalog"))
    ingest_kraken_ohlcvt(catalog, shared_data / "kraken/ohlcvt/XBTUSD_60.csv", "BTC/USD", 60)
    return catalog


def write_config(tmp_path, catalog, strategies, venue_name="KRAKEN", bar_type=BTC):
    config = {
        "name": "parity test",
        "catalog": str(catalog.path),
        "output": str(tmp_path / "out"),
        "start": START,
        "end": END,
        "venues": [
            {
                "name": venue_name,
                "account_type": "CASH",
                "starting_balances": ["100000 USD"],
                "fill_model": {"prob_slippage": 0.0},
            }
        ],
        "data": [{"bar_type": bar_type}],
        "strategies": strategies,
    }
    path = tmp_path / "parity.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.slow
def test_ma_cross_holds_parity_on_a_month_of_real_bars(tmp_path, btc_catalog):
    ma_cross = [{"name": "ma_cross", "params": {"fast": 10, "slow": 30, "trade_size": 0.5}}]
    config = write_config(tmp_path, btc_catalog, ma_cross)
    out = tmp_path / "report"
    result = CliRunner().invoke(main, ["parity", str(config), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "PARITY" in result.output

    report = json.loads((out / "parity.json").read_text())
    assert report["parity"] is True
    assert report["orders"]["identical"] is True
    assert report["orders"]["backtest"] == report["orders"]["live"] >= 10
    assert report["fills"]["backtest"] == report["fills"]["live"] >= 10
    assert report["pnl"]["relative"] <= 0.005
    # What is left is Kraken's 4-decimal fees against nautilus's cents, and nothing else.
    assert set(report["causes"]) <= {"fee rounding"}
    assert report["pnl"]["explained_by"]["fill_prices"] == 0.0
    assert abs(report["pnl"]["explained_by"]["orders"]) < 1e-9
    assert report["fees"]["largest_rounding"] <= 0.005

    # The live side's records are the venue's own: every fill the node reported is there.
    venue = json.loads((out / "live/venue.json").read_text())
    assert len(venue["trades"]) == report["fills"]["live"]
    assert (out / "backtest/orders.csv").is_file() and (out / "parity.md").is_file()


def test_a_market_the_local_exchange_does_not_serve_is_refused_in_one_line(tmp_path, btc_catalog):
    config = write_config(
        tmp_path,
        btc_catalog,
        [{"name": "ma_cross"}],
        venue_name="BINANCE",
        bar_type="BTC/USD.BINANCE-1-HOUR-LAST-EXTERNAL",
    )
    result = CliRunner().invoke(main, ["parity", str(config)])
    assert result.exit_code == 2
    assert "KRAKEN" in result.output and len(result.output.strip().splitlines()) == 1


@pytest.mark.slow
def test_a_node_that_does_not_catch_up_ends_the_run_saying_what_it_waited_for(
    tmp_path, btc_catalog
):
    from seraphim.parity.live import LiveRunError
    from seraphim.parity.runner import run_parity

    config = write_config(tmp_path, btc_catalog, [{"name": "ma_cross"}])
    # No time at all to catch up: the first completed bar cannot have reached the node.
    with pytest.raises(LiveRunError, match=r"within 0 s: waiting for bar BTC/USD\.KRAKEN"):
        run_parity(config, end="2022-03-02", step_timeout=0.0)
