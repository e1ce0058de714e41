"""
Kraken asset pairs (the AssetPairs endpoint) and their nautilus ``CurrencyPair`` instruments.

A bundled table of common pairs (``resources/asset_pairs.json``, in the exact shape of a
``/0/public/AssetPairs`` response) serves when no live or saved response is given.
"""

from __future__ import annotations

import json
from decimal import Decimal
from importlib import resources
from pathlib import Path

import msgspec
from nautilus_trader.model.currencies import Currency
from nautilus_trader.model.enums import CurrencyType
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.identifiers import Symbol
from nautilus_trader.model.instruments import CurrencyPair
from nautilus_trader.model.objects import Money
from nautilus_trader.model.objects import Price
from nautilus_trader.model.objects import Quantity

from seraphim.adapters.kraken.common.constants import KRAKEN_VENUE

# Kraken's own asset codes that differ from everyone else's.
ASSET_ALIASES: dict[str, str] = {"XBT": "BTC", "XDG": "DOGE"}
# Legacy four-letter asset ids carry an X (crypto) or Z (fiat) class prefix.
_LEGACY_PREFIXED = {"XXBT", "XETH", "XXDG", "XXRP", "XLTC", "XXLM", "XXMR", "XZEC", "XETC", "XREP"}
_FIAT_PREFIXED = {"ZUSD", "ZEUR", "ZGBP", "ZCAD", "ZJPY", "ZAUD", "ZCHF"}
_BALANCE_SUFFIXES = (".HOLD", ".F", ".S", ".M", ".B", ".P")


class KrakenAssetPair(msgspec.Struct, frozen=True):
    """One entry of Kraken's AssetPairs response (the fields Seraphim uses)."""

    altname: str
    wsname: str
    base: str
    quote: str
    pair_decimals: int
    lot_decimals: int
    cost_decimals: int
    ordermin: str
    costmin: str
    tick_size: str
    fees: list[tuple[float, float]]
    fees_maker: list[tuple[float, float]]
    status: str = "online"

    @property
    def symbol(self) -> str:
        """The WebSocket v2 symbol, e.g. ``BTC/USD`` (BTC rather than XBT)."""
        base, quote = self.wsname.split("/")
        return f"{normalize_asset(base)}/{normalize_asset(quote)}"

    def fee_rates(self, volume_30d: float = 0.0) -> tuple[Decimal, Decimal]:
        """Return the (maker, taker) fee rates (fractions) at a 30-day USD volume."""
        return _tier_rate(self.fees_maker, volume_30d), _tier_rate(self.fees, volume_30d)


class _AssetPairsResponse(msgspec.Struct):
    error: list[str]
    result: dict[str, KrakenAssetPair] = {}


def _tier_rate(schedule: list[tuple[float, float]], volume: float) -> Decimal:
    rate = schedule[0][1] if schedule else 0.0
    for threshold, tier_rate in schedule:
        if volume >= threshold:
            rate = tier_rate
    return Decimal(str(rate)) / 100


def normalize_asset(code: str) -> str:
    """
    Map a Kraken asset code to the common code: ``XXBT``/``XBT`` -> ``BTC``, ``ZUSD`` -> ``USD``,
    ``XXDG`` -> ``DOGE``, ``XBT.F`` -> ``BTC``.
    """
    code = code.upper()
    for suffix in _BALANCE_SUFFIXES:
        if code.endswith(suffix):
            code = code[: -len(suffix)]
            break
    if code in _LEGACY_PREFIXED or code in _FIAT_PREFIXED:
        code = code[1:]
    return ASSET_ALIASES.get(code, code)


def parse_asset_pairs(raw: bytes | str) -> dict[str, KrakenAssetPair]:
    """Decode an AssetPairs response; raise ``ValueError`` if it carries Kraken errors."""
    try:
        response = msgspec.json.decode(raw, type=_AssetPairsResponse)
    except msgspec.DecodeError as e:
        raise ValueError(f"not a Kraken AssetPairs response: {e}") from None
    if response.error:
        raise ValueError(f"AssetPairs response carries errors: {', '.join(response.error)}")
    return response.result


def load_asset_pairs(path: str | Path | None = None) -> dict[str, KrakenAssetPair]:
    """Load asset pairs from a saved AssetPairs response, or the bundled table when no path."""
    if path is None:
        raw = resources.files("seraphim.adapters.kraken").joinpath("resources/asset_pairs.json")
        return parse_asset_pairs(raw.read_bytes())
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"AssetPairs file not found: {path}")
    return parse_asset_pairs(path.read_bytes())


def find_pair(pairs: dict[str, KrakenAssetPair], name: str) -> tuple[str, KrakenAssetPair]:
    """
    Find a pair by any of its names: ``BTC/USD``, ``XBT/USD``, ``XBTUSD`` or ``XXBTZUSD``.

    Returns the REST pair key and the pair. Raises ``KeyError`` naming the pair when unknown.
    """
    wanted = name.upper().strip()
    for key, pair in pairs.items():
        if wanted in (key, pair.altname, pair.wsname, pair.symbol):
            return key, pair
    if "/" in wanted:
        base, quote = wanted.split("/", 1)
        wanted_symbol = f"{normalize_asset(base)}/{normalize_asset(quote)}"
        for key, pair in pairs.items():
            if pair.symbol == wanted_symbol:
                return key, pair
    raise KeyError(f"unknown Kraken pair {name!r}")


def currency_for(code: str) -> Currency:
    """nautilus's currency for a normalized asset code (an unknown one is registered as crypto)."""
    currency = Currency.from_str(code, strict=True)
    if currency is None:  # an asset nautilus does not know yet
        currency = Currency(code, 8, 0, code, CurrencyType.CRYPTO)
        Currency.register(currency, overwrite=False)
    return currency


def pair_to_instrument(
    key: str,
    pair: KrakenAssetPair,
    *,
    volume_30d: float = 0.0,
    info: dict | None = None,
    ts_init: int = 0,
) -> CurrencyPair:
    """Build the nautilus ``CurrencyPair`` (e.g. ``BTC/USD.KRAKEN``) for a Kraken pair."""
    base, quote = pair.symbol.split("/")
    maker_fee, taker_fee = pair.fee_rates(volume_30d)
    quote_currency = currency_for(quote)
    return CurrencyPair(
        instrument_id=InstrumentId(Symbol(pair.symbol), KRAKEN_VENUE),
        raw_symbol=Symbol(pair.symbol),
        base_currency=currency_for(base),
        quote_currency=quote_currency,
        price_precision=pair.pair_decimals,
        size_precision=pair.lot_decimals,
        price_increment=Price.from_str(pair.tick_size),
        size_increment=Quantity(10**-pair.lot_decimals, pair.lot_decimals),
        ts_event=ts_init,
        ts_init=ts_init,
        min_quantity=Quantity.from_str(pair.ordermin),
        min_notional=Money(Decimal(pair.costmin), quote_currency),
        maker_fee=maker_fee,
        taker_fee=taker_fee,
        info={
            "kraken_pair": key,
            "altname": pair.altname,
            "wsname": pair.wsname,
            "cost_decimals": pair.cost_decimals,
            **(info or {}),
        },
    )


def instrument_for(
    name: str,
    asset_pairs_file: str | Path | None = None,
    **kwargs,
) -> CurrencyPair:
    """Shortcut: the nautilus instrument for a pair name from a saved or the bundled table."""
    key, pair = find_pair(load_asset_pairs(asset_pairs_file), name)
    return pair_to_instrument(key, pair, **kwargs)


def asset_pairs_json(pairs: dict[str, KrakenAssetPair]) -> str:
    """Serialise pairs back into an AssetPairs response body."""
    return json.dumps({"error": [], "result": msgspec.to_builtins(pairs)})
