"""Points in time: parsing ``--as-of`` values and finding where a store's data ends."""

from __future__ import annotations

import datetime as dt
from typing import Any

from revloop.analytics.scoring.errors import ScoringError
from revloop.store import Store


def parse_as_of(value: str | dt.date | dt.datetime | None) -> dt.datetime | None:
    """A naive UTC timestamp from ``2024-03-31``, ``2024-03-31T12:00`` or a date/datetime.

    A date means the start of that day: "as of 2024-04-01" counts everything that happened
    up to 2024-03-31 23:59:59.
    """
    if value is None or isinstance(value, dt.datetime):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    text = value.strip()
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ScoringError(f"as-of date {value!r} is not a date; expected YYYY-MM-DD or "
                           "YYYY-MM-DDTHH:MM[:SS]") from None
    return parse_as_of(parsed)


_PROBES = (("touchpoints", "occurred_at"), ("stage_transitions", "occurred_at"),
           ("opportunities", "created_at"), ("contacts", "created_at"),
           ("intent_signals", "day"))


def _extreme(store: Store, latest: bool) -> dt.datetime | None:
    present = set(store.list_tables())
    candidates: list[dt.datetime] = []
    for name, col in _PROBES:
        if name not in present:
            continue
        column = store.table(name)[col]
        value = (column.max() if latest else column.min()).execute()
        if value is None or value != value:  # None or NaT
            continue
        stamp = _to_datetime(value)
        if stamp is not None:
            candidates.append(stamp)
    if not candidates:
        return None
    return max(candidates) if latest else min(candidates)


def data_end(store: Store) -> dt.datetime | None:
    """The latest activity the store knows (touches, opportunities, transitions, intent)."""
    return _extreme(store, latest=True)


def data_start(store: Store) -> dt.datetime | None:
    """The earliest activity the store knows."""
    return _extreme(store, latest=False)


def default_as_of(store: Store) -> dt.datetime:
    """The day after the latest activity in the store (so that day's rows are included);
    the start of tomorrow (UTC) when nothing in the store is dated."""
    end = data_end(store) or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    day = dt.datetime(end.year, end.month, end.day)
    return day + dt.timedelta(days=1)


def _to_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else value.astimezone(
            dt.UTC).replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    to_py = getattr(value, "to_pydatetime", None)
    if to_py is not None:
        out = to_py()
        return _to_datetime(out)
    return None
