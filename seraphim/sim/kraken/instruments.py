"""The pairs and assets the local exchange lists, from Kraken's AssetPairs table."""

from __future__ import annotations

import json
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from importlib import resources
from pathlib import Path

from seraphim.adapters.kraken.common.pairs import KrakenAssetPair
from seraphim.adapters.kraken.common.pairs import find_pair
from seraphim.adapters.kraken.common.pairs import normalize_asset
from seraphim.adapters.kraken.common.pairs import parse_asset_pairs


@dataclass(frozen=True)
class AssetInfo:
    """One entry of the Assets endpoint."""

    asset_id: str  # Kraken's id, e.g. XXBT
    altname: str  # e.g. XBT
    decimals: int
    display_decimals: int

    @property
    def ws_name(self) -> str:
        """The v2 name (BTC rather than XBT)."""
        return normalize_asset(self.asset_id)


# Kraken's Assets endpoint values for the assets of the bundled pairs.
_ASSETS: dict[str, tuple[str, int, int]] = {
    "XXBT": ("XBT", 10, 5),
    "XETH": ("ETH", 10, 5),
    "ZUSD": ("USD", 4, 2),
    "ZEUR": ("EUR", 4, 2),
    "ZGBP": ("GBP", 4, 2),
    "USDT": ("USDT", 8, 4),
    "USDC": ("USDC", 8, 4),
    "SOL": ("SOL", 10, 5),
    "XXRP": ("XRP", 8, 5),
    "XLTC": ("LTC", 10, 5),
    "ADA": ("ADA", 8, 6),
    "XXDG": ("XDG", 8, 2),
}


def asset_info(asset_id: str) -> AssetInfo:
    """Assets-endpoint facts for a Kraken asset id (a sane default for unknown ones)."""
    if asset_id in _ASSETS:
        altname, decimals, display = _ASSETS[asset_id]
        return AssetInfo(asset_id, altname, decimals, display)
    fiat = asset_id.startswith("Z") and len(asset_id) == 4
    return AssetInfo(asset_id, asset_id, 4 if fiat else 10, 2 if fiat else 5)


# Kraken's margin terms for pairs whose bundled entry lacks them, as Kraken's AssetPairs lists
# them (recorded response, 2025-11-11: XBTUSDT leverage 2-10, position limits 80).
_MARGIN_TERMS: dict[str, dict] = {
    "XBTUSDT": {
        "leverage_buy": list(range(2, 11)),
        "leverage_sell": list(range(2, 11)),
        "long_position_limit": 80,
        "short_position_limit": 80,
    },
}


def _with_margin_terms(key: str, raw: dict) -> dict:
    terms = _MARGIN_TERMS.get(key, {})
    out = dict(raw)
    for name, value in terms.items():
        if not out.get(name):
            out[name] = value
    return out


@dataclass
class SimPair:
    """A listed pair: Kraken's AssetPairs entry plus the derived values the exchange needs."""

    key: str  # REST pair id, e.g. XXBTZUSD
    info: KrakenAssetPair
    raw: dict  # the AssetPairs entry exactly as Kraken sends it
    base: AssetInfo = field(init=False)
    quote: AssetInfo = field(init=False)

    def __post_init__(self) -> None:
        self.raw = _with_margin_terms(self.key, self.raw)
        self.base = asset_info(self.info.base)
        self.quote = asset_info(self.info.quote)

    @property
    def altname(self) -> str:
        """``XBTUSD``."""
        return self.info.altname

    @property
    def wsname(self) -> str:
        """``XBT/USD``."""
        return self.info.wsname

    @property
    def symbol(self) -> str:
        """The v2 symbol ``BTC/USD``."""
        return self.info.symbol

    @property
    def price_decimals(self) -> int:
        """Price precision (``pair_decimals``)."""
        return self.info.pair_decimals

    @property
    def lot_decimals(self) -> int:
        """Quantity precision."""
        return self.info.lot_decimals

    @property
    def cost_decimals(self) -> int:
        """Cost precision."""
        return self.info.cost_decimals

    @property
    def display_price_decimals(self) -> int:
        """Places of prices in Ticker, Depth, Trades and Spread (``105944.30000``)."""
        return max(self.info.pair_decimals, self.info.cost_decimals)

    @property
    def tick_size(self) -> Decimal:
        """Minimum price increment."""
        return Decimal(self.info.tick_size)

    @property
    def ordermin(self) -> Decimal:
        """Minimum order volume."""
        return Decimal(self.info.ordermin)

    @property
    def costmin(self) -> Decimal:
        """Minimum order cost in quote."""
        return Decimal(self.info.costmin)

    def matches(self, name: str) -> bool:
        """
        Whether ``name`` is one of the spellings Kraken accepts for this pair: the pair id
        ``XXBTZUSD``, altname ``XBTUSD``, wsname ``XBT/USD``, v2 symbol ``BTC/USD`` and the
        symbol without its slash ``BTCUSD``.
        """
        wanted = name.upper().strip()
        names = {self.key, self.altname, self.wsname, self.symbol}
        return wanted in names or wanted in {n.replace("/", "") for n in names}

    def fee_rates(self, volume_30d: Decimal) -> tuple[Decimal, Decimal]:
        """(maker, taker) fee fractions at a 30-day volume."""
        return self.info.fee_rates(float(volume_30d))


def _bundled_raw() -> bytes:
    path = resources.files("seraphim.adapters.kraken").joinpath("resources/asset_pairs.json")
    return path.read_bytes()


def load_sim_pairs(names: list[str] | None = None, path: str | Path | None = None) -> list[SimPair]:
    """
    The pairs to list: ``names`` (any Kraken spelling, e.g. ``BTC/USD``) from a saved AssetPairs
    response or the bundled table. Raises ``KeyError`` for an unknown name.
    """
    raw_bytes = Path(path).read_bytes() if path else _bundled_raw()
    parsed = parse_asset_pairs(raw_bytes)
    raw = json.loads(raw_bytes)["result"]
    if not names:
        return [SimPair(key, pair, raw[key]) for key, pair in parsed.items()]
    out: list[SimPair] = []
    for name in names:
        key, pair = find_pair(parsed, name)
        if all(p.key != key for p in out):
            out.append(SimPair(key, pair, raw[key]))
    return out
