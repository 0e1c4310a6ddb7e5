"""Xero tracking categories on document lines: what a mapping names, and which apply to one line.

Xero allows at most two tracking categories per line (``LineItemTracking``: ``Name`` and ``Option``),
and only active categories and options.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field

from ledgerbridge.bookkeeping.base import Frozen

MAX_TRACKING = 2
"""Xero's limit of tracking categories on one line."""


class TrackingRef(Frozen):
    """One tracking category and the option chosen in it, by name (as Xero's line items carry them)."""

    name: str = Field(min_length=1, max_length=100, description="The tracking category, e.g. Region")
    option: str = Field(min_length=1, max_length=100, description="Its option, e.g. North")

    def body(self) -> dict[str, Any]:
        return {"Name": self.name, "Option": self.option}


def _distinct(refs: tuple[TrackingRef, ...]) -> tuple[TrackingRef, ...]:
    names = [ref.name.casefold() for ref in refs]
    if len(set(names)) != len(names):
        raise ValueError("each tracking category can be chosen once")
    return refs


Tracking = Annotated[tuple[TrackingRef, ...], Field(max_length=MAX_TRACKING), AfterValidator(_distinct)]
"""Up to two tracking categories, each named once."""


def merged(own: tuple[TrackingRef, ...], fallback: tuple[TrackingRef, ...]) -> tuple[TrackingRef, ...]:
    """``own`` first, then the ``fallback`` categories ``own`` does not choose (an item's tracking wins
    over its gateway's in the same category). Sorted by category name, so equal choices give equal
    lines; more than two categories raise ValueError (the caller names the mappings)."""
    chosen = {ref.name.casefold(): ref for ref in fallback}
    chosen.update({ref.name.casefold(): ref for ref in own})
    if len(chosen) > MAX_TRACKING:
        raise ValueError(
            f"together they choose {len(chosen)} tracking categories "
            f"({', '.join(sorted(ref.name for ref in chosen.values()))}); Xero allows {MAX_TRACKING} per line"
        )
    return tuple(sorted(chosen.values(), key=lambda ref: ref.name.casefold()))


def unknown(refs: tuple[TrackingRef, ...], active: dict[str, frozenset[str]]) -> TrackingRef | None:
    """The first choice that is not an active category with that active option; ``active`` empty means
    not known (nothing is checked). Names compare case-insensitively, as Xero's do."""
    if not active:
        return None
    folded = {name.casefold(): {option.casefold() for option in options} for name, options in active.items()}
    for ref in refs:
        if ref.option.casefold() not in folded.get(ref.name.casefold(), set()):
            return ref
    return None
