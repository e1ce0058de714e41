"""``seraphim kraken``: quick looks at Kraken (or the local exchange) through the adapter."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import click
from rich.table import Table

from seraphim.console import console
from seraphim.console import fail

rest_url_option = click.option(
    "--rest-url",
    default="https://api.kraken.com",
    show_default=True,
    envvar="KRAKEN_REST_URL",
    help="REST base URL (e.g. http://127.0.0.1:8090 for `seraphim sim kraken`).",
)


def _run(job: Callable[[Any], Awaitable[None]], rest_url: str, private: bool) -> None:
    from seraphim.adapters.kraken.common.credentials import credentials_from_env
    from seraphim.adapters.kraken.common.errors import KrakenError
    from seraphim.adapters.kraken.http.client import KrakenHttpClient
    from seraphim.adapters.kraken.http.endpoints import KrakenSpotApi

    async def main() -> None:
        credentials = credentials_from_env(required=private)
        client = KrakenHttpClient(rest_url, credentials, public_rate=0, max_retries=2)
        try:
            await job(KrakenSpotApi(client))
        finally:
            await client.close()

    try:
        asyncio.run(main())
    except KrakenError as e:
        fail(str(e))
    except KeyError as e:
        fail(str(e.args[0]))


@click.group()
def kraken() -> None:
    """Kraken Spot through the adapter's REST client (keys: KRAKEN_API_KEY / KRAKEN_API_SECRET)."""


@kraken.command()
@rest_url_option
@click.option("--quote", default=None, help="Only pairs quoted in this asset (e.g. USD).")
def pairs(rest_url: str, quote: str | None) -> None:
    """Tradable pairs as nautilus instruments (precisions, minimums, fees)."""
    from seraphim.adapters.kraken.common.pairs import pair_to_instrument

    async def job(api) -> None:
        table = Table(title=f"Kraken pairs at {rest_url}")
        for column in (
            "instrument",
            "pair",
            "tick",
            "lot",
            "min qty",
            "min cost",
            "maker",
            "taker",
        ):
            table.add_column(column)
        for key, pair in sorted((await api.asset_pairs()).items(), key=lambda kv: kv[1].symbol):
            if quote and not pair.symbol.endswith("/" + quote.upper()):
                continue
            inst = pair_to_instrument(key, pair)
            table.add_row(
                str(inst.id), key, str(inst.price_increment), str(inst.size_increment),
                str(inst.min_quantity), str(inst.min_notional), f"{inst.maker_fee:.2%}",
                f"{inst.taker_fee:.2%}",
            )  # fmt: skip
        console.print(table)

    _run(job, rest_url, private=False)


@kraken.command()
@rest_url_option
@click.argument("pairs", nargs=-1, required=True)
def ticker(rest_url: str, pairs: tuple[str, ...]) -> None:
    """Best bid/ask and last trade of PAIRS (any spelling: BTC/USD, XBTUSD)."""
    from seraphim.adapters.kraken.common.pairs import find_pair

    async def job(api) -> None:
        known = await api.asset_pairs()
        keys = [find_pair(known, p)[0] for p in pairs]
        tickers = await api.ticker(keys)
        table = Table(title="ticker")
        for column in ("pair", "bid", "ask", "last", "24h volume"):
            table.add_column(column)
        for key in keys:
            t = tickers[key]
            table.add_row(known[key].symbol, t.b[0], t.a[0], t.c[0], t.v[1] if t.v else "")
        console.print(table)

    _run(job, rest_url, private=False)


@kraken.command()
@rest_url_option
def balance(rest_url: str) -> None:
    """Account balances and funds held by open orders."""
    from seraphim.adapters.kraken.common.pairs import normalize_asset

    async def job(api) -> None:
        balances = await api.balance_ex()
        table = Table(title="balances")
        for column in ("asset", "kraken id", "balance", "held", "available"):
            table.add_column(column)
        for asset, entry in sorted(balances.items()):
            total, held = Decimal(entry.balance), Decimal(entry.hold_trade or "0")
            table.add_row(
                normalize_asset(asset), asset, entry.balance, entry.hold_trade, str(total - held)
            )
        console.print(table)

    _run(job, rest_url, private=True)


@kraken.command("open-orders")
@rest_url_option
def open_orders(rest_url: str) -> None:
    """Open orders of the account."""

    async def job(api) -> None:
        orders = await api.open_orders(trades=False)
        if not orders:
            console.print("no open orders")
            return
        table = Table(title="open orders")
        for column in ("txid", "cl_ord_id", "order", "filled", "status", "opened"):
            table.add_column(column)
        for txid, info in sorted(orders.items(), key=lambda kv: kv[1].opentm):
            table.add_row(
                txid, info.cl_ord_id or "", info.descr.order, f"{info.vol_exec}/{info.vol}",
                info.status, f"{info.opentm:.3f}",
            )  # fmt: skip
        console.print(table)

    _run(job, rest_url, private=True)
