"""
``seraphim catalog``: ingest, list, check and sample the Parquet data catalog.

The catalog package stores; the venues' formats are read by their adapters, which this CLI
(and only this module) imports directly, inside each command, for the command it runs.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from datetime import UTC
from datetime import datetime
from pathlib import Path

import click
from rich.table import Table

from seraphim.catalog.errors import MalformedInputError
from seraphim.catalog.store import CatalogError
from seraphim.catalog.store import IngestResult
from seraphim.catalog.store import SeraphimCatalog
from seraphim.console import console
from seraphim.console import fail
from seraphim.paths import default_catalog_path

SERIES_KINDS = ("bar", "trade_tick", "quote_tick")
catalog_option = click.option(
    "--catalog",
    "catalog_path",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Catalog root (default: $SERAPHIM_CATALOG or ./catalog).",
)
replace_option = click.option(
    "--replace",
    is_flag=True,
    help="Overwrite stored rows the file gives other values for (default: refuse, list them).",
)
asset_pairs_option = click.option(
    "--asset-pairs",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="A saved /0/public/AssetPairs response (default: the bundled table).",
)


def open_catalog(path: Path | None, *, create: bool = True) -> SeraphimCatalog:
    return SeraphimCatalog(path or default_catalog_path(), create=create)


def open_existing_catalog(path: Path | None) -> SeraphimCatalog:
    """The catalog to read or edit; a clear error (not a new empty folder) when it is missing."""
    try:
        return open_catalog(path, create=False)
    except CatalogError as e:
        fail(str(e))


def _report_ingest(result: IngestResult, catalog: SeraphimCatalog) -> None:
    for identifier, (before, after) in result.series.items():
        replaced = result.replaced.get(identifier)
        console.print(
            f"{identifier}: {result.received:,} rows read, {after - before:+,} new, "
            + (f"{replaced:,} replaced, " if replaced else "")
            + f"{after:,} stored in {catalog.path}",
            highlight=False,
        )


def _run_ingest(job) -> None:
    try:
        job()
    except (MalformedInputError, CatalogError, FileNotFoundError, ValueError) as e:
        fail(str(e))
    except KeyError as e:
        fail(str(e.args[0]))


@click.group()
def catalog() -> None:
    """The Parquet data catalog (nautilus ParquetDataCatalog)."""


@catalog.group()
def ingest() -> None:
    """Load market data files into the catalog (atomic and idempotent)."""


@ingest.command("kraken-ohlcvt")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--pair", required=True, help="Kraken pair, e.g. BTC/USD or XBTUSD.")
@click.option(
    "--interval",
    type=int,
    default=60,
    show_default=True,
    help="Candle minutes (must match the file's own row spacing).",
)
@replace_option
@asset_pairs_option
@catalog_option
def ingest_ohlcvt(file, pair, interval, replace, asset_pairs, catalog_path) -> None:
    """Kraken's downloadable OHLCVT CSV (time,open,high,low,close,volume,count)."""
    from seraphim.adapters.kraken.ingest import ingest_kraken_ohlcvt

    def job():
        store = open_catalog(catalog_path)
        result = ingest_kraken_ohlcvt(
            store,
            file,
            pair,
            interval,
            asset_pairs,
            show_progress=console.is_terminal,
            replace=replace,
        )
        _report_ingest(result, store)

    _run_ingest(job)


@ingest.command("kraken-rest")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--interval", type=int, default=None, help="OHLC minutes (inferred if omitted).")
@replace_option
@asset_pairs_option
@catalog_option
def ingest_rest(file, interval, replace, asset_pairs, catalog_path) -> None:
    """A saved /0/public/OHLC (bars) or /0/public/Trades (trade ticks) response."""
    from seraphim.adapters.kraken.ingest import ingest_kraken_rest

    def job():
        store = open_catalog(catalog_path)
        result = ingest_kraken_rest(store, file, interval, asset_pairs, replace=replace)
        _report_ingest(result, store)

    _run_ingest(job)


@ingest.command("kraken")
@click.option("--pair", required=True, help="Kraken pair, e.g. BTC/USD or XBTUSD.")
@click.option("--interval", type=int, default=60, show_default=True, help="Bar minutes.")
@click.option("--since", required=True, help="Start: ISO date/time (UTC) or UNIX seconds.")
@click.option("--until", default=None, help="End (default: now).")
@click.option("--trades", is_flag=True, help="Ingest trade ticks instead of bars.")
@click.option(
    "--rest-url",
    default="https://api.kraken.com",
    show_default=True,
    envvar="KRAKEN_REST_URL",
    help="REST base URL (e.g. http://127.0.0.1:8090 for `seraphim sim kraken`).",
)
@click.option("--max-pages", type=int, default=50, show_default=True, help="Trades pages cap.")
@catalog_option
def ingest_kraken_api(pair, interval, since, until, trades, rest_url, max_pages, catalog_path):
    """Download history from Kraken's REST API (OHLC, older history from Trades)."""
    from seraphim.adapters.kraken.ingest import ingest_from_kraken

    def job():
        store = open_catalog(catalog_path)
        with console.status("downloading from Kraken...") as status:
            result = ingest_from_kraken(
                store,
                pair,
                interval,
                since,
                until,
                trades=trades,
                rest_url=rest_url,
                max_pages=max_pages,
                progress=lambda text: status.update(f"downloading from Kraken: {text}"),
            )
        _report_ingest(result, store)

    _run_ingest(job)


@ingest.command("ibkr")
@click.option("--symbol", required=True, help="IB symbol, e.g. AAPL.")
@click.option(
    "--exchange", default="SMART", show_default=True, help="Primary exchange, e.g. NASDAQ."
)
@click.option("--sec-type", default="STK", show_default=True, help="STK, CRYPTO, FUT, IND, ...")
@click.option("--currency", default="USD", show_default=True)
@click.option(
    "--bar", "bar", default="1-HOUR", show_default=True, help="e.g. 1-MINUTE, 1-HOUR-MID."
)
@click.option("--start", required=True, help="ISO date/time (UTC when no zone is given).")
@click.option("--end", default=None, help="ISO date/time (default: now).")
@click.option("--rth/--all-hours", default=True, show_default=True, help="Regular hours only.")
@click.option("--host", envvar="SERAPHIM_IBKR_HOST", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    envvar="SERAPHIM_IBKR_PORT",
    type=int,
    default=4002,
    show_default=True,
    help="IB Gateway paper 4002 / live 4001, TWS 7497 / 7496, `seraphim sim ibkr` 4010.",
)
@click.option("--client-id", type=int, default=97, show_default=True, help="API client id.")
@click.option(
    "--synthetic",
    is_flag=True,
    help="Label the series SYNTHETIC (use it with the local gateway: its prices are simulated).",
)
@click.option(
    "--pacing-backoff",
    type=float,
    default=20.0,
    show_default=True,
    help="Seconds to wait after a pacing violation before retrying the chunk.",
)
@click.option("--request-timeout", type=int, default=120, show_default=True, help="Seconds.")
@catalog_option
def ingest_ibkr(
    symbol,
    exchange,
    sec_type,
    currency,
    bar,
    start,
    end,
    rth,
    host,
    port,
    client_id,
    synthetic,
    pacing_backoff,
    request_timeout,
    catalog_path,
):
    """Download bars from IB Gateway/TWS (nautilus's HistoricInteractiveBrokersClient).

    The range is cut into the largest chunks IB serves per request and paced to IB's
    historical data rules; a chunk that meets a pacing violation is retried.
    """
    from seraphim.adapters.ibkr.history import HistoryError
    from seraphim.adapters.ibkr.history import ib_contract
    from seraphim.adapters.ibkr.history import ingest_ibkr_history

    try:
        start_t = _parse_time(start, "--start")
        end_t = _parse_time(end, "--end") if end else datetime.now(UTC)
    except ValueError as e:
        fail(str(e))
    contract = ib_contract(symbol, exchange, sec_type, currency)

    def job():
        store = open_catalog(catalog_path)
        with _chunk_progress(f"{symbol} {bar}") as on_chunk:
            result, download = ingest_ibkr_history(
                store,
                host,
                port,
                client_id,
                contract,
                bar,
                start_t,
                end_t,
                use_rth=rth,
                synthetic=synthetic,
                on_chunk=on_chunk,
                violation_backoff=pacing_backoff,
                request_timeout=request_timeout,
            )
        _report_ingest(result, store)
        console.print(
            f"{len(download.chunks)} request(s), {download.waited:.1f} s waited for IB's pacing, "
            f"{download.pacing_violations} pacing violation(s) retried",
            highlight=False,
        )

    try:
        _run_ingest(job)
    except HistoryError as e:
        fail(str(e))


def _parse_time(text: str, option: str) -> datetime:
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{option}: expected an ISO date/time, got {text!r}") from None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t


@contextmanager
def _chunk_progress(label: str):
    """A progress bar over IB requests on a terminal, one line per request otherwise."""
    if not console.is_terminal:

        def line(report) -> None:
            note = " (no data)" if report.no_data else ""
            if report.retries:
                note += f" after {report.retries} pacing violation(s)"
            console.print(
                f"[{report.index}/{report.total}] {report.chunk.start:%Y-%m-%d %H:%M} .. "
                f"{report.chunk.end:%Y-%m-%d %H:%M}: {report.bars} bars{note}",
                highlight=False,
            )

        yield line
        return
    from rich.progress import BarColumn
    from rich.progress import MofNCompleteColumn
    from rich.progress import Progress
    from rich.progress import TextColumn
    from rich.progress import TimeRemainingColumn

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[bars]} bars"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(f"IB {label}", total=None, bars=0)
        count = {"bars": 0}

        def update(report) -> None:
            count["bars"] += report.bars
            progress.update(task, total=report.total, completed=report.index, bars=count["bars"])

        yield update


@catalog.command()
@click.option("--days", type=int, default=365, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--start", default="2024-01-01", show_default=True)
@catalog_option
def sample(days, seed, start, catalog_path) -> None:
    """Write the synthetic BTC/USD and ETH/USD sample (GBM + GARCH volatility clustering)."""
    from seraphim.adapters.kraken.ingest import sample_instruments
    from seraphim.catalog.ingest import ingest_sample
    from seraphim.catalog.sample import SampleMarket

    def job():
        store = open_catalog(catalog_path)
        market = SampleMarket(days=days, seed=seed, start=start)
        for result in ingest_sample(store, market, sample_instruments(market)):
            _report_ingest(result, store)
        console.print("[yellow]sample data is SYNTHETIC[/] (see seraphim/catalog/sample.py)")

    _run_ingest(job)


@catalog.command("list")
@catalog_option
def list_command(catalog_path) -> None:
    """Instruments and data series with their time ranges and row counts."""
    from seraphim.catalog.inventory import list_series

    store = open_existing_catalog(catalog_path)
    instruments = store.nautilus.instruments()
    series = [s for s in list_series(store) if s.data_type in SERIES_KINDS]
    if not instruments and not series:
        console.print(f"catalog {store.path} is empty")
        return
    table = Table(title=f"instruments in {store.path}")
    for column in ("instrument", "type", "price prec", "size prec", "min size", "maker", "taker"):
        table.add_column(column)
    for inst in instruments:
        synthetic = " [yellow](SYNTHETIC)[/]" if (inst.info or {}).get("synthetic") else ""
        table.add_row(
            f"{inst.id}{synthetic}",
            type(inst).__name__,
            str(inst.price_precision),
            str(inst.size_precision),
            str(inst.min_quantity),
            f"{inst.maker_fee:.4%}",
            f"{inst.taker_fee:.4%}",
        )
    console.print(table)
    table = Table(title="data series")
    for column in ("type", "identifier", "rows", "start", "end", "source"):
        table.add_column(column, justify="right" if column == "rows" else "left", no_wrap=True)
    for info in series:
        source = "[yellow]SYNTHETIC[/]" if info.synthetic else ", ".join(info.sources) or "-"
        table.add_row(
            info.data_type,
            info.identifier,
            f"{info.rows:,}",
            _stamp(info.start),
            _stamp(info.end),
            source,
        )
    console.print(table)


def _stamp(timestamp) -> str:
    return timestamp.strftime("%Y-%m-%d %H:%M") if timestamp is not None else "-"


@catalog.command()
@click.argument("identifiers", nargs=-1)
@catalog_option
def check(identifiers, catalog_path) -> None:
    """Report gaps, duplicates, out-of-order rows, OHLC inconsistencies and outliers.

    Exits 1 when a hard error (anything but gaps and outliers) is found.
    """
    from seraphim.catalog.quality import ERROR
    from seraphim.catalog.quality import check_catalog

    store = open_existing_catalog(catalog_path)
    reports = check_catalog(store, list(identifiers) or None)
    if not reports:
        fail(f"no bar or trade series to check in {store.path}")
    for report in reports:
        status = "[red]FAIL[/]" if report.has_errors else "[green]ok[/]"
        console.print(f"{status} {report.identifier} ({report.rows:,} rows)", highlight=False)
        for finding in report.findings:
            color = "red" if finding.severity == ERROR else "yellow"
            console.print(
                f"  [{color}]{finding.severity}[/] {finding.check}: {finding.count:,}",
                highlight=False,
            )
            for example in finding.examples:
                console.print(f"      {example}", highlight=False)
    if any(report.has_errors for report in reports):
        sys.exit(1)


@catalog.command()
@click.argument("identifier")
@catalog_option
def remove(identifier, catalog_path) -> None:
    """Remove one series (bar type or instrument id) from the catalog."""
    store = open_existing_catalog(catalog_path)
    try:
        store.remove(identifier)
    except CatalogError as e:
        fail(str(e))
    console.print(f"removed {identifier} from {store.path}")
