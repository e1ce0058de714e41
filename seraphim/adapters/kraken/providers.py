"""
The Kraken instrument provider: AssetPairs -> nautilus ``CurrencyPair`` (``BTC/USD.KRAKEN``).

Built on :mod:`seraphim.adapters.kraken.common.pairs` (XBT -> BTC, XDG -> DOGE; precisions, tick and
lot increments, minimum quantity and notional, maker/taker fees at the account's tier).
"""

from __future__ import annotations

from typing import Any

from nautilus_trader.common.providers import InstrumentProvider
from nautilus_trader.config import InstrumentProviderConfig
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import CurrencyPair

from seraphim.adapters.kraken.common.constants import KRAKEN_VENUE
from seraphim.adapters.kraken.common.errors import KrakenConfigError
from seraphim.adapters.kraken.common.pairs import KrakenAssetPair
from seraphim.adapters.kraken.common.pairs import find_pair
from seraphim.adapters.kraken.common.pairs import normalize_asset
from seraphim.adapters.kraken.common.pairs import pair_to_instrument
from seraphim.adapters.kraken.http.endpoints import KrakenSpotApi


class KrakenInstrumentProvider(InstrumentProvider):
    """
    Loads Kraken Spot pairs as nautilus instruments.

    Parameters
    ----------
    api : KrakenSpotApi
        REST access (AssetPairs).
    config : InstrumentProviderConfig, optional
        nautilus's provider config (``load_all``, ``load_ids``, ``filters``).
    pairs : list[str], optional
        Restrict ``load_all`` to these pairs (any Kraken spelling).
    volume_30d : float
        30-day USD volume that selects the fee tier.

    Filters (``load_all_async(filters)``): ``base`` / ``quote`` (asset code or list, e.g.
    ``USD``), ``symbols`` (list of pair names), ``status`` (e.g. ``online``).

    """

    def __init__(
        self,
        api: KrakenSpotApi,
        config: InstrumentProviderConfig | None = None,
        pairs: list[str] | None = None,
        volume_30d: float = 0.0,
    ) -> None:
        super().__init__(config=config or InstrumentProviderConfig(load_all=True))
        self._api = api
        self._pairs_filter = list(pairs) if pairs else None
        self._volume_30d = volume_30d
        self.asset_pairs: dict[str, KrakenAssetPair] = {}
        self._key_by_id: dict[InstrumentId, str] = {}
        self._id_by_name: dict[str, InstrumentId] = {}

    # ------------------------------------------------------------------ loading

    async def _fetch(self) -> dict[str, KrakenAssetPair]:
        pairs = await self._api.asset_pairs()
        self.asset_pairs = pairs
        return pairs

    def _select(
        self, pairs: dict[str, KrakenAssetPair], names: list[str]
    ) -> dict[str, KrakenAssetPair]:
        out: dict[str, KrakenAssetPair] = {}
        for name in names:
            try:
                key, pair = find_pair(pairs, name.removesuffix(f".{KRAKEN_VENUE.value}"))
            except KeyError:
                raise KrakenConfigError(
                    f"unknown Kraken pair {name!r} (the venue lists {len(pairs)} pairs)"
                ) from None
            out[key] = pair
        return out

    async def load_all_async(self, filters: dict | None = None) -> None:
        """Load every pair (or the configured ``pairs``), after ``filters``."""
        pairs = await self._fetch()
        if self._pairs_filter:
            pairs = self._select(pairs, self._pairs_filter)
        for key, pair in pairs.items():
            if _matches(pair, filters):
                self._add(key, pair)

    async def load_ids_async(
        self, instrument_ids: list[InstrumentId], filters: dict | None = None
    ) -> None:
        """Load the given instruments; an unknown one raises ``KrakenConfigError``."""
        for instrument_id in instrument_ids:
            if instrument_id.venue != KRAKEN_VENUE:
                raise KrakenConfigError(f"{instrument_id} is not a {KRAKEN_VENUE} instrument")
        pairs = self.asset_pairs or await self._fetch()
        selected = self._select(pairs, [i.symbol.value for i in instrument_ids])
        for key, pair in selected.items():
            if _matches(pair, filters):
                self._add(key, pair)

    async def load_async(self, instrument_id: InstrumentId, filters: dict | None = None) -> None:
        """Load one instrument."""
        await self.load_ids_async([instrument_id], filters)

    def _add(self, key: str, pair: KrakenAssetPair) -> None:
        instrument = pair_to_instrument(key, pair, volume_30d=self._volume_30d)
        self.add_currency(instrument.base_currency)
        self.add_currency(instrument.quote_currency)
        self.add(instrument)
        self._key_by_id[instrument.id] = key
        for name in (key, pair.altname, pair.wsname, pair.symbol):
            self._id_by_name[name] = instrument.id

    # ------------------------------------------------------------------ lookups

    def pair_key(self, instrument_id: InstrumentId) -> str:
        """The REST pair key (``XXBTZUSD``) of a loaded instrument."""
        try:
            return self._key_by_id[instrument_id]
        except KeyError:
            raise KrakenConfigError(f"instrument {instrument_id} is not loaded") from None

    def asset_pair(self, instrument_id: InstrumentId) -> KrakenAssetPair:
        """Kraken's AssetPairs entry of a loaded instrument."""
        return self.asset_pairs[self.pair_key(instrument_id)]

    def ws_symbol(self, instrument_id: InstrumentId) -> str:
        """The WebSocket v2 symbol (``BTC/USD``)."""
        return self.asset_pair(instrument_id).symbol

    def instrument_id_for(self, name: str) -> InstrumentId | None:
        """The instrument of any Kraken pair name (key, altname, wsname or v2 symbol)."""
        return self._id_by_name.get(name)

    def currency_pair(self, instrument_id: InstrumentId) -> CurrencyPair | None:
        """The loaded instrument."""
        instrument = self.find(instrument_id)
        return instrument if isinstance(instrument, CurrencyPair) else None


def _as_set(value: Any) -> set[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return {value.upper()}
    return {str(v).upper() for v in value}


def _matches(pair: KrakenAssetPair, filters: dict | None) -> bool:
    if not filters:
        return True
    base, quote = pair.symbol.split("/")
    bases = _as_set(filters.get("base"))
    if bases is not None and base not in {normalize_asset(b) for b in bases}:
        return False
    quotes = _as_set(filters.get("quote"))
    if quotes is not None and quote not in {normalize_asset(q) for q in quotes}:
        return False
    symbols = _as_set(filters.get("symbols"))
    if symbols is not None and not symbols & {pair.symbol, pair.altname, pair.wsname}:
        return False
    status = filters.get("status")
    return status is None or pair.status == status
