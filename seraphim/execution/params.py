"""
The parameters a parent order carries in ``exec_algorithm_params``, one struct per algorithm.

``parse_params`` turns the order's dict into the struct or raises ``ValueError`` with a one-line
message naming the problem (the algorithm denies the parent with it).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec

ChildType = Literal["market", "limit"]


class TwapParams(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """
    duration_secs: the horizon; slices: children spread evenly over it (the last one is the
    parent itself, carrying whatever is left); jitter: each child's time moves by up to this
    fraction of the interval either way (seeded by ``seed``); child: ``market`` or ``limit``
    children (limits at the touch, ``limit_offset_ticks`` more aggressive; an unfilled limit is
    cancelled when the next child goes and its rest is swept by the last child at market).
    """

    duration_secs: float
    slices: int
    jitter: float = 0.0
    seed: int = 0
    child: ChildType = "market"
    limit_offset_ticks: int = 0

    def __post_init__(self) -> None:
        if self.duration_secs <= 0:
            raise ValueError(f"duration_secs must be positive, was {self.duration_secs}")
        if self.slices < 1:
            raise ValueError(f"slices must be at least 1, was {self.slices}")
        if not 0.0 <= self.jitter < 0.5:
            raise ValueError(f"jitter must be in [0, 0.5), was {self.jitter}")


class VwapParams(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """
    Like TWAP, but each child is sized by the volume profile's share for the time of day it
    covers: ``profile`` (shares per ``profile_bucket_secs`` from midnight UTC, e.g. from
    ``seraphim.execution.profile.catalog_profile``) or, without one, the profile of the bars of
    ``bar_type`` the node has seen (``profile_buckets`` buckets).
    """

    duration_secs: float
    slices: int
    profile: list[float] | None = None
    profile_bucket_secs: int = 3600
    bar_type: str | None = None
    child: ChildType = "market"
    limit_offset_ticks: int = 0

    def __post_init__(self) -> None:
        if self.duration_secs <= 0:
            raise ValueError(f"duration_secs must be positive, was {self.duration_secs}")
        if self.slices < 1:
            raise ValueError(f"slices must be at least 1, was {self.slices}")
        if self.profile is None and self.bar_type is None:
            raise ValueError("VWAP needs a profile or a bar_type to estimate one from")
        if self.profile is not None and (
            not self.profile or any(s < 0 for s in self.profile) or sum(self.profile) <= 0
        ):
            raise ValueError("profile must be non-negative shares with a positive sum")
        if self.profile_bucket_secs <= 0 or 86_400 % self.profile_bucket_secs:
            raise ValueError("profile_bucket_secs must divide a day")


class PovParams(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """
    On each bar of ``bar_type``, a market child of ``participation`` times the bar's volume,
    at most ``max_child`` (the cap) and what is left; ``duration_secs`` (optional) ends the
    parent, whatever is unfilled then is cancelled.
    """

    participation: float
    bar_type: str
    max_child: Decimal | None = None
    duration_secs: float | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.participation <= 1.0:
            raise ValueError(f"participation must be in (0, 1], was {self.participation}")
        if self.max_child is not None and self.max_child <= 0:
            raise ValueError(f"max_child must be positive, was {self.max_child}")
        if self.duration_secs is not None and self.duration_secs <= 0:
            raise ValueError(f"duration_secs must be positive, was {self.duration_secs}")


class IcebergParams(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """
    Show ``display_qty`` of a limit parent at a time: natively (one venue iceberg order) where
    the venue supports it (``native`` true, or unset and the venue is in the algorithm's
    ``native_venues``), otherwise one visible limit child after another.
    """

    display_qty: Decimal
    native: bool | None = None

    def __post_init__(self) -> None:
        if self.display_qty <= 0:
            raise ValueError(f"display_qty must be positive, was {self.display_qty}")


def parse_params[T: msgspec.Struct](kind: type[T], raw: dict | None, algorithm: str) -> T:
    """The parent's ``exec_algorithm_params`` as ``kind``; ``ValueError`` naming the problem."""
    try:
        return msgspec.convert(raw or {}, kind, strict=False)
    except (msgspec.ValidationError, ValueError) as e:
        raise ValueError(f"{algorithm} parameters: {e}") from None
