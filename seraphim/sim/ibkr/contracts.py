"""The gateway's contract universe: stocks with ISINs, one option chain, crypto on PAXOS.

The universe is config driven (a mapping, e.g. loaded from YAML) with defaults that mirror
real IB contract ids and listing venues, so tools written against the local gateway see
the same shapes as against a real one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from seraphim.sim.ibkr.protocol import FieldReader

NEW_YORK = ZoneInfo("America/New_York")  # the exchanges' and the gateway's clock

STOCK_ORDER_TYPES = (
    "ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AON,AVGCOST,BASKET,BENCHPX,CASHQTY,COND,CONDORDER,"
    "DARKONLY,DARKPOLL,DAY,DEACT,DEACTDIS,DEACTEOD,DIS,DUR,GAT,GTC,GTD,GTT,HID,IBKRATS,ICE,IMB,"
    "IOC,LIT,LMT,LOC,MIT,MKT,MOC,MTL,NGCOMB,NODARK,NONALGO,OCA,OPG,OPGREROUT,PEGBENCH,PEGMID,"
    "POSTATS,POSTONLY,PREOPGRTH,PRICECHK,REL,REL2MID,RELPCTOFS,RPI,RTH,SCALE,SCALEODD,SCALERST,"
    "SIZECHK,SNAPMID,SNAPMKT,SNAPREL,STP,STPLMT,SWEEP,TRAIL,TRAILLIT,TRAILLMT,TRAILMIT,WHATIF"
)
OPTION_ORDER_TYPES = (
    "ACTIVETIM,AD,ALERT,ALLOC,AVGCOST,COND,DAY,GAT,GTC,GTD,IOC,LMT,MKT,MTL,STP,STPLMT,TRAIL,WHATIF"
)
CRYPTO_ORDER_TYPES = (
    "ACTIVETIM,AD,ALERT,ALLOC,AVGCOST,CASHQTY,COND,DAY,GAT,IOC,LMT,MKT,STP,STPLMT,WHATIF"
)
US_STOCK_EXCHANGES = (
    "SMART,AMEX,NYSE,CBOE,PHLX,ISE,CHX,ARCA,NASDAQ,DRCTEDGE,BEX,BATS,EDGEA,BYX,IEX,EDGX,"
    "FOXRIVER,PEARL,NYSENAT,LTSE,MEMX,IBEOS,OVERNIGHT,TPLUS0,PSX"
)


@dataclass(frozen=True)
class ContractSpec:
    """One tradable contract and the contract-details fields TWS reports for it."""

    con_id: int
    symbol: str
    sec_type: str
    currency: str
    primary_exchange: str
    exchange: str = "SMART"
    local_symbol: str = ""
    trading_class: str = ""
    long_name: str = ""
    min_tick: float = 0.01
    multiplier: str = ""
    isin: str = ""
    last_trade_date: str = ""
    strike: float = 0.0
    right: str = ""
    under_con_id: int = 0
    under_symbol: str = ""
    under_sec_type: str = ""
    valid_exchanges: str = US_STOCK_EXCHANGES
    order_types: str = STOCK_ORDER_TYPES
    time_zone: str = "US/Eastern"
    industry: str = ""
    category: str = ""
    subcategory: str = ""
    stock_type: str = "COMMON"
    market_rule_ids: str = "26"
    min_size: Decimal = Decimal("1")
    size_increment: Decimal = Decimal("1")
    price: float = 100.0
    volatility: float = 0.25
    agg_group: int = 1
    around_the_clock: bool = False

    @property
    def is_option(self) -> bool:
        """True for OPT contracts."""
        return self.sec_type == "OPT"

    @property
    def trades_24h(self) -> bool:
        """Crypto trades around the clock; everything else follows US equity hours, unless
        the gateway runs around the clock (rehearsals outside market hours)."""
        return self.sec_type == "CRYPTO" or self.around_the_clock

    @property
    def value_multiplier(self) -> float:
        """Contract multiplier as a number (1 when unset)."""
        return float(self.multiplier) if self.multiplier else 1.0

    @property
    def contract_month(self) -> str:
        """YYYYMM of the expiry (options), else empty."""
        return self.last_trade_date[:6]


@dataclass
class ContractQuery:
    """The contract fields a client sends with a request (any of them may be empty)."""

    con_id: int = 0
    symbol: str = ""
    sec_type: str = ""
    last_trade_date: str = ""
    strike: float = 0.0
    right: str = ""
    multiplier: str = ""
    exchange: str = ""
    primary_exchange: str = ""
    currency: str = ""
    local_symbol: str = ""
    trading_class: str = ""
    sec_id_type: str = ""
    sec_id: str = ""
    include_expired: bool = False

    @classmethod
    def read(cls, r: FieldReader, *, primary_exchange: bool = True) -> ContractQuery:
        """Read the common 11/12 contract fields in TWS request order."""
        q = cls()
        q.con_id = r.int()
        q.symbol = r.str()
        q.sec_type = r.str()
        q.last_trade_date = r.str()
        q.strike = r.float()
        q.right = r.str()
        q.multiplier = r.str()
        q.exchange = r.str()
        if primary_exchange:
            q.primary_exchange = r.str()
        q.currency = r.str()
        q.local_symbol = r.str()
        q.trading_class = r.str()
        return q

    def describe(self) -> str:
        """A short human description for error messages."""
        parts = [self.symbol or self.local_symbol or str(self.con_id), self.sec_type]
        if self.exchange:
            parts.append(self.exchange)
        if self.currency:
            parts.append(self.currency)
        return " ".join(p for p in parts if p)


def _norm_right(right: str) -> str:
    r = right.upper()
    return {"CALL": "C", "PUT": "P"}.get(r, r)


def _third_friday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    offset = (4 - first.weekday()) % 7
    return first + dt.timedelta(days=offset + 14)


def monthly_expiries(as_of: dt.date, count: int) -> list[dt.date]:
    """The next ``count`` standard monthly expiries (third Fridays) strictly after ``as_of``."""
    out: list[dt.date] = []
    year, month = as_of.year, as_of.month
    while len(out) < count:
        friday = _third_friday(year, month)
        if friday > as_of:
            out.append(friday)
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return out


def occ_local_symbol(symbol: str, expiry: dt.date, right: str, strike: float) -> str:
    """OCC option symbol as IB reports it, e.g. ``AAPL  250117C00190000``."""
    return f"{symbol:<6}{expiry:%y%m%d}{right}{round(strike * 1000):08d}"


DEFAULT_STOCKS: tuple[dict[str, Any], ...] = (
    {
        "symbol": "AAPL",
        "con_id": 265598,
        "primary_exchange": "NASDAQ",
        "isin": "US0378331005",
        "long_name": "APPLE INC",
        "industry": "Technology",
        "category": "Computers",
        "subcategory": "Computers",
        "price": 190.0,
    },
    {
        "symbol": "MSFT",
        "con_id": 272093,
        "primary_exchange": "NASDAQ",
        "isin": "US5949181045",
        "long_name": "MICROSOFT CORP",
        "industry": "Technology",
        "category": "Software",
        "subcategory": "Applications Software",
        "price": 410.0,
    },
    {
        "symbol": "SPY",
        "con_id": 756733,
        "primary_exchange": "ARCA",
        "isin": "US78462F1030",
        "long_name": "SPDR S&P 500 ETF TRUST",
        "stock_type": "ETF",
        "industry": "Funds",
        "category": "Equity Fund",
        "subcategory": "Growth&Income-Large Cap",
        "price": 520.0,
        "volatility": 0.15,
    },
)
DEFAULT_CRYPTO: tuple[dict[str, Any], ...] = (
    {
        "symbol": "BTC",
        "con_id": 479624278,
        "long_name": "Bitcoin",
        "price": 65000.0,
        "min_tick": 0.25,
        "volatility": 0.6,
    },
)
DEFAULT_OPTION_CHAIN: dict[str, Any] = {
    "underlying": "AAPL",
    "expiries": 2,
    "strikes": 5,
    "strike_step": 10.0,
}


def stock(spec: Mapping[str, Any]) -> ContractSpec:
    """Build a SMART-routed US stock from a config mapping."""
    symbol = spec["symbol"]
    return ContractSpec(
        con_id=int(spec["con_id"]),
        symbol=symbol,
        sec_type="STK",
        currency=spec.get("currency", "USD"),
        primary_exchange=spec.get("primary_exchange", "NASDAQ"),
        exchange=spec.get("exchange", "SMART"),
        local_symbol=spec.get("local_symbol", symbol),
        trading_class=spec.get("trading_class", "NMS"),
        long_name=spec.get("long_name", symbol),
        min_tick=float(spec.get("min_tick", 0.01)),
        isin=spec.get("isin", ""),
        industry=spec.get("industry", ""),
        category=spec.get("category", ""),
        subcategory=spec.get("subcategory", ""),
        stock_type=spec.get("stock_type", "COMMON"),
        price=float(spec.get("price", 100.0)),
        volatility=float(spec.get("volatility", 0.25)),
    )


def crypto(spec: Mapping[str, Any]) -> ContractSpec:
    """Build a PAXOS crypto contract from a config mapping."""
    symbol = spec["symbol"]
    currency = spec.get("currency", "USD")
    return ContractSpec(
        con_id=int(spec["con_id"]),
        symbol=symbol,
        sec_type="CRYPTO",
        currency=currency,
        primary_exchange="PAXOS",
        exchange="PAXOS",
        local_symbol=f"{symbol}.{currency}",
        trading_class=symbol,
        long_name=spec.get("long_name", symbol),
        min_tick=float(spec.get("min_tick", 0.25)),
        valid_exchanges="PAXOS",
        order_types=CRYPTO_ORDER_TYPES,
        time_zone="US/Central",
        stock_type="",
        market_rule_ids="3003",
        min_size=Decimal(str(spec.get("min_size", "0.0001"))),
        size_increment=Decimal(str(spec.get("size_increment", "0.0001"))),
        price=float(spec.get("price", 100.0)),
        volatility=float(spec.get("volatility", 0.6)),
        industry="Crypto",
        category="Crypto",
    )


def option_chain(
    underlying: ContractSpec, as_of: dt.date, spec: Mapping[str, Any]
) -> list[ContractSpec]:
    """Calls and puts around the underlying's reference price for the next monthly expiries."""
    step = float(spec.get("strike_step", 10.0))
    n_strikes = int(spec.get("strikes", 5))
    centre = round(underlying.price / step) * step
    strikes = [centre + step * (i - n_strikes // 2) for i in range(n_strikes)]
    expiries = monthly_expiries(as_of, int(spec.get("expiries", 2)))
    base_id = int(spec.get("first_con_id", 700_000_000))
    out: list[ContractSpec] = []
    for expiry in expiries:
        for strike in strikes:
            for right in ("C", "P"):
                out.append(
                    ContractSpec(
                        con_id=base_id + len(out),
                        symbol=underlying.symbol,
                        sec_type="OPT",
                        currency=underlying.currency,
                        primary_exchange="",
                        exchange="SMART",
                        local_symbol=occ_local_symbol(underlying.symbol, expiry, right, strike),
                        trading_class=underlying.symbol,
                        long_name=underlying.long_name,
                        min_tick=0.01,
                        multiplier="100",
                        last_trade_date=f"{expiry:%Y%m%d}",
                        strike=strike,
                        right=right,
                        under_con_id=underlying.con_id,
                        under_symbol=underlying.symbol,
                        under_sec_type=underlying.sec_type,
                        valid_exchanges="SMART,AMEX,CBOE,PHLX,PSE,ISE,BOX,BATS,NASDAQOM,CBOE2,"
                        "NASDAQBX,MIAX,GEMINI,EDGX,MERCURY,PEARL,EMERALD,MEMX,IBUSOPT",
                        order_types=OPTION_ORDER_TYPES,
                        stock_type="",
                        market_rule_ids="32",
                        price=underlying.price,
                        volatility=underlying.volatility,
                    )
                )
    return out


@dataclass
class ContractUniverse:
    """All contracts the gateway knows, with IB-like lookup semantics."""

    contracts: list[ContractSpec] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_id = {c.con_id: c for c in self.contracts}

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any] | None = None,
        as_of: dt.date | None = None,
        around_the_clock: bool = False,
    ) -> ContractUniverse:
        """Build from a mapping with optional ``stocks``, ``crypto`` and ``option_chain`` keys.

        ``around_the_clock`` gives every contract a 24-hour, 7-day session (bars and
        trading hours), so a node can be rehearsed at night and on weekends.
        """
        config = config or {}
        as_of = as_of or dt.datetime.now(dt.UTC).date()
        stocks = [stock(s) for s in config.get("stocks", DEFAULT_STOCKS)]
        cryptos = [crypto(s) for s in config.get("crypto", DEFAULT_CRYPTO)]
        contracts = stocks + cryptos
        chain = config.get("option_chain", DEFAULT_OPTION_CHAIN)
        if chain:
            underlying = next((s for s in stocks if s.symbol == chain["underlying"]), None)
            if underlying is None:
                raise ValueError(f"option chain underlying {chain['underlying']!r} is not a stock")
            contracts += option_chain(underlying, as_of, chain)
        if around_the_clock:
            contracts = [replace(c, around_the_clock=True) for c in contracts]
        return cls(contracts)

    def __iter__(self):
        return iter(self.contracts)

    def __len__(self) -> int:
        return len(self.contracts)

    def get(self, con_id: int) -> ContractSpec | None:
        """The contract with this conId, if any."""
        return self._by_id.get(con_id)

    def underlying_of(self, spec: ContractSpec) -> ContractSpec | None:
        """The underlying stock of an option."""
        return self._by_id.get(spec.under_con_id)

    def options_of(self, under_con_id: int) -> list[ContractSpec]:
        """All options on one underlying."""
        return [c for c in self.contracts if c.is_option and c.under_con_id == under_con_id]

    def find(self, q: ContractQuery) -> list[ContractSpec]:
        """Contracts matching a request the way TWS matches (empty fields are wildcards)."""
        if q.con_id > 0:
            spec = self._by_id.get(q.con_id)
            return [spec] if spec else []
        if q.sec_id_type and q.sec_id:
            if q.sec_id_type.upper() == "ISIN":
                return [c for c in self.contracts if c.isin == q.sec_id]
            if q.sec_id_type.upper() == "CONID" and q.sec_id.isdigit():
                spec = self._by_id.get(int(q.sec_id))
                return [spec] if spec else []
            return []
        if not (q.symbol or q.local_symbol):
            return []
        return [c for c in self.contracts if _matches(c, q)]

    def search(self, pattern: str) -> list[ContractSpec]:
        """reqMatchingSymbols: non-derivative contracts whose symbol or name starts with pattern."""
        p = pattern.upper()
        return [
            c
            for c in self.contracts
            if not c.is_option and (c.symbol.startswith(p) or c.long_name.upper().startswith(p))
        ]


def _matches(c: ContractSpec, q: ContractQuery) -> bool:
    if q.symbol and q.symbol.upper() != c.symbol:
        return False
    if q.local_symbol and q.local_symbol.replace(" ", "") != c.local_symbol.replace(" ", ""):
        return False
    if q.sec_type and q.sec_type.upper() != c.sec_type:
        return False
    if q.currency and q.currency.upper() != c.currency:
        return False
    if q.exchange and q.exchange.upper() not in c.valid_exchanges.split(","):
        return False
    if (
        q.primary_exchange
        and c.primary_exchange
        and q.primary_exchange.upper() != c.primary_exchange
    ):
        return False
    if q.trading_class and q.trading_class != c.trading_class:
        return False
    if c.is_option:
        if q.last_trade_date and not c.last_trade_date.startswith(q.last_trade_date):
            return False
        if q.strike and abs(q.strike - c.strike) > 1e-6:
            return False
        if q.right and _norm_right(q.right) not in ("", "?") and _norm_right(q.right) != c.right:
            return False
        if q.multiplier and q.multiplier != c.multiplier:
            return False
    return True


def as_exchange(spec: ContractSpec, requested: str) -> ContractSpec:
    """The contract as reported for the exchange the client asked for (SMART by default)."""
    exchange = requested.upper() if requested else spec.exchange
    if exchange not in spec.valid_exchanges.split(","):
        exchange = spec.exchange
    return spec if exchange == spec.exchange else replace(spec, exchange=exchange)


def unique_symbols(specs: Iterable[ContractSpec]) -> list[str]:
    """Sorted distinct symbols, for listings."""
    return sorted({s.symbol for s in specs})
