"""The dashboard in Chromium against a node trading the local Kraken exchange: sign in, P&L and
fills arriving live, pause (the node confirms), a manual order that fills, one the risk gate
denies (the rule shown), a resting one cancelled from its row, the limits with their usage, a
viewer who cannot trade, sign-out; screenshots of the pages."""

from __future__ import annotations

import re
import time

import pytest
from adapters_kraken.node_harness import lively_sim
from adapters_kraken.node_harness import write_node_config
from click.testing import CliRunner
from nautilus_trader.model.identifiers import ClientOrderId
from ops.harness import run_with_script
from ops.harness import ticker
from ops.harness import wait_for
from ops.strategies import Ticker

from seraphim.assembly import risk_controller_config
from seraphim.cli import main
from seraphim.dashboard.sessions import CSRF_HEADER
from seraphim.ops import node_actors
from seraphim.ops.operator import OPERATOR_STRATEGY_ID
from seraphim.risk.config import GuardConfig
from seraphim.risk.config import RiskConfig
from seraphim.risk.config import RiskLimits

from .browser import chromium
from .browser import screenshots_dir
from .browser import sign_in
from .conftest import PASSWORDS
from .conftest import Served

pytestmark = pytest.mark.slow
TIMEOUT_MS = 30_000


def test_an_operator_watches_and_drives_a_live_node_from_the_browser(tmp_path, trader_id, settings):
    actors = node_actors(journal=True)
    risk = RiskConfig(
        limits=RiskLimits(max_order_notional=5_000, max_position_pct=0.5, max_gross_leverage=2.0),
        guard=GuardConfig(max_drawdown=0.2),
    )
    figures: dict = {}
    shots = screenshots_dir(tmp_path)
    for fast, slow in ((10, 30), (20, 60)):  # two real runs in the journal, to compare
        ran = CliRunner().invoke(
            main,
            ["backtest", "run", "--strategy", "ma_cross", "--instrument", "BTC/USD.KRAKEN",
             "--param", f"fast={fast}", "--param", f"slow={slow}",
             "--output", str(tmp_path / f"ma_{fast}_{slow}"), "--journal"],
        )  # fmt: skip
        assert ran.exit_code == 0, ran.output
    with lively_sim() as tsim:
        path = write_node_config(tmp_path, tsim, trader_id=trader_id)

        def script(node) -> None:
            tick = next(s for s in node.trader.strategies() if isinstance(s, Ticker))
            sid = tick.id.value
            operator = next(
                s for s in node.trader.strategies() if s.id.value == OPERATOR_STRATEGY_ID
            )
            cache = node.kernel.cache
            wait_for(lambda: len(tick.submitted) >= 2, 60, "the strategy trading")
            with Served(settings) as served, chromium() as browser:
                url = served.url
                context, page = sign_in(browser, url, "tom", PASSWORDS["tom"])
                page.set_default_timeout(TIMEOUT_MS)

                # Overview: the node with its health; P&L changes as it trades; fills arrive.
                pnl = page.locator(f"#pnl-{trader_id}")
                pnl.wait_for()
                first = pnl.inner_text()
                page.wait_for_function(
                    "([id, was]) => document.getElementById(id)?.innerText !== was",
                    arg=[f"pnl-{trader_id}", first],
                )
                page.locator("#live-fills li.fill").nth(2).wait_for()
                delays = page.eval_on_selector_all(
                    "#live-fills li.fill",
                    "els => els.map(e => e.dataset.received - e.dataset.tsEvent / 1e6)",
                )
                figures["fill_to_page_ms"] = sorted(delays)
                assert max(delays) < 1000, delays
                page.wait_for_function("() => document.querySelector('#equity-chart .main-svg')")
                page.screenshot(path=str(shots / "overview.png"))

                # Pause: the node answers, the page shows it, the strategy stops ordering.
                page.goto(f"{url}/nodes/{trader_id}")
                page.click(f"button[data-action=pause][data-strategy='{sid}']")
                page.wait_for_function(
                    "() => document.getElementById('control-result').innerText.startsWith('done')"
                )
                assert page.inner_text("#control-result") == f"done: {sid}: paused"
                assert tick.paused
                page.locator(f"span.badge[data-strategy='{sid}']", has_text="paused").wait_for()

                # A manual order fills at the exchange; a bigger one is denied, rule named.
                page.fill("#ticket-qty", "0.01")
                page.click("#ticket-submit")
                page.locator("#ticket-result", has_text=re.compile("^(done|refused)")).wait_for()
                assert page.inner_text("#ticket-result").startswith("done: order O-")
                wait_for(
                    lambda: (
                        [o.status_string() for o in cache.orders(strategy_id=operator.id)]
                        == ["FILLED"]
                    ),
                    20,
                    "the manual order's fill",
                )
                page.locator("#live-fills li.fill", has_text=OPERATOR_STRATEGY_ID).wait_for()
                page.locator("#orders td", has_text="FILLED").first.wait_for()
                page.fill("#ticket-qty", "0.2")
                page.click("#ticket-submit")
                page.wait_for_function(
                    "() => document.getElementById('ticket-result').innerText.startsWith('refused')"
                )
                denied = page.inner_text("#ticket-result")
                assert "denied: max_order_notional" in denied, denied
                page.locator("#denials td", has_text="max_order_notional").first.wait_for()

                # A resting limit order, cancelled from its row; each limit with its usage.
                page.select_option("#ticket-type", "LIMIT")
                page.fill("#ticket-qty", "0.01")
                page.fill("#ticket-price", "1000")
                page.click("#ticket-submit")
                page.locator("#ticket-result", has_text=re.compile("^(done|refused)")).wait_for()
                answer = page.inner_text("#ticket-result")  # "done: order O-... ACCEPTED"
                resting = answer.split()[2]
                assert answer == f"done: order {resting} ACCEPTED"
                page.click(f"button[data-cancel='{resting}']")
                page.locator("#flash", has_text=f"done: order {resting} CANCELED").wait_for()
                assert cache.order(ClientOrderId(resting)).status_string() == "CANCELED"
                notional = page.locator("#limits tr[data-rule='global max_order_notional'] td")
                assert notional.nth(3).inner_text() == "5000.00 USD"
                page.locator("#limits tr[data-rule='guard max_drawdown']").wait_for()
                page.screenshot(path=str(shots / "node.png"), full_page=True)
                page.goto(f"{url}/nodes/{trader_id}/strategies/{sid}")
                page.locator("#strategy-state", has_text="paused").wait_for()
                page.fill("#param-name", "trade_size")
                page.fill("#param-value", "0.002")
                page.click("#params-form button")
                page.locator("#control-result", has_text=re.compile("^(done|refused)")).wait_for()
                assert page.inner_text("#control-result").startswith(
                    f"done: {sid}: parameters changed (trade_size: 0.001 -> 0.002)"
                )
                assert str(tick.params.trade_size) == "0.002"
                page.locator("#params td", has_text="trade_size").wait_for()
                page.locator("#orders td", has_text="FILLED").first.wait_for()
                page.screenshot(path=str(shots / "strategy.png"), full_page=True)
                page.goto(f"{url}/backtests")
                page.locator("input.pick").nth(1).check()
                page.locator("input.pick").nth(0).check()
                page.click("#compare")
                page.locator("#comparison td", has_text="sharpe").wait_for()
                report = page.locator("#runs a", has_text="open").first.get_attribute("href")
                opened = context.request.get(f"{url}{report}")
                assert opened.status == 200 and "plotly" in opened.text()
                page.screenshot(path=str(shots / "backtests.png"), full_page=True)
                page.goto(f"{url}{report}")  # its charts draw under the report's own policy
                page.wait_for_function("() => document.querySelector('.main-svg')")
                for name in ("catalog", "alerts"):
                    page.goto(f"{url}/{name}")
                    page.wait_for_load_state("networkidle")
                    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

                # Sign out: the page and the API refuse the old session.
                page.click("#logout")
                page.wait_for_url(f"{url}/login")
                assert context.request.get(f"{url}/api/auth/me").status == 401
                assert page.goto(f"{url}/").status == 401

                # An admin halts the node through the API, then resets its guard on the page,
                # which asks for the trader id first.
                _, admin = sign_in(browser, url, "ada", PASSWORDS["ada"])
                admin.goto(f"{url}/nodes/{trader_id}")
                halted = admin.evaluate(
                    """async ([trader, header]) => {
                        const csrf = document.querySelector('meta[name="csrf-token"]').content;
                        const r = await fetch(`/api/nodes/${trader}/trading-state`, {
                          method: 'POST', body: JSON.stringify({state: 'HALTED'}),
                          headers: {'Content-Type': 'application/json', [header]: csrf}});
                        return (await r.json()).detail;
                    }""",
                    [trader_id, CSRF_HEADER],
                )
                assert halted == "trading state ACTIVE -> HALTED"
                admin.click("#reset-guard")
                admin.locator("#guard-result", has_text="to reset the guard, confirm").wait_for()
                assert node.kernel.risk_engine.trading_state.name == "HALTED"
                admin.fill("#reset-confirm", trader_id)
                admin.click("#reset-guard")
                admin.locator("#guard-result", has_text="done: risk guard reset").wait_for()
                assert node.kernel.risk_engine.trading_state.name == "ACTIVE"
                admin.goto(f"{url}/audit")
                admin.locator("#audit td", has_text="reset-guard").first.wait_for()
                admin.screenshot(path=str(shots / "audit.png"), full_page=True)

                # A viewer sees the node but no controls, and the API refuses them anyway.
                _, viewer = sign_in(browser, url, "vic", PASSWORDS["vic"])
                viewer.goto(f"{url}/nodes/{trader_id}")
                viewer.locator(f"span.badge[data-strategy='{sid}']").wait_for()
                assert viewer.locator("#ticket-form").count() == 0
                assert viewer.locator("button[data-action]").count() == 0
                assert viewer.locator("#flatten-all").count() == 0
                refused = viewer.evaluate(
                    """async ([trader, header]) => {
                        const csrf = document.querySelector('meta[name="csrf-token"]').content;
                        const r = await fetch(`/api/nodes/${trader}/orders`, {method: 'POST',
                          headers: {'Content-Type': 'application/json', [header]: csrf},
                          body: JSON.stringify({instrument_id: 'BTC/USD.KRAKEN', side: 'BUY',
                                                quantity: '0.01'})});
                        return [r.status, (await r.json()).detail];
                    }""",
                    [trader_id, CSRF_HEADER],
                )
                assert refused == [403, "role viewer may not do this (needs trader)"]
                assert len(cache.orders(strategy_id=operator.id)) == 3  # nothing new
            figures["done"] = time.time()

        run_with_script(
            path,
            script,
            actors=actors[:2],
            strategies=[ticker(), actors[2]],
            controller=risk_controller_config(risk),
            state="redis",
        )
    assert "done" in figures
    print(f"fill -> page delays (ms): {[round(d) for d in figures['fill_to_page_ms']]}")
