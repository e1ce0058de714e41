"""Constants of the Kraken Spot venue."""

from nautilus_trader.model.identifiers import Venue

KRAKEN = "KRAKEN"
KRAKEN_VENUE = Venue(KRAKEN)

# Kraken's OHLC intervals (minutes) and the nautilus bar specification each maps to.
OHLC_INTERVALS: dict[int, str] = {
    1: "1-MINUTE",
    5: "5-MINUTE",
    15: "15-MINUTE",
    30: "30-MINUTE",
    60: "1-HOUR",
    240: "4-HOUR",
    1440: "1-DAY",
    10080: "1-WEEK",
    21600: "15-DAY",
}


def bar_spec_for_interval(interval_minutes: int) -> str:
    """Return the nautilus bar specification (e.g. ``1-HOUR-LAST``) for a Kraken interval."""
    try:
        return f"{OHLC_INTERVALS[interval_minutes]}-LAST"
    except KeyError:
        allowed = ", ".join(str(i) for i in OHLC_INTERVALS)
        raise ValueError(
            f"unsupported Kraken OHLC interval {interval_minutes} (allowed: {allowed})"
        ) from None
