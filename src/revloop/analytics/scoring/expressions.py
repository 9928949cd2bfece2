"""Small Ibis helpers that keep types identical on DuckDB, PostgreSQL and Spark."""

from __future__ import annotations

from typing import Any

import ibis


def float_literal(value: float | None) -> Any:
    """A float64 literal column; PostgreSQL would type a bare ``10.0`` as NUMERIC."""
    if value is None:
        return ibis.null("float64")
    return ibis.literal(repr(float(value))).cast("float64")


def epoch(stamp: Any) -> Any:
    """Whole seconds since 1970 of a timestamp, as float64.

    Spark's epoch is whole seconds while DuckDB and PostgreSQL keep microseconds; flooring
    everywhere makes ages, decays and snapshot comparisons identical on every engine.
    """
    return stamp.epoch_seconds().floor().cast("float64")


def round_float(value: Any, digits: int) -> Any:
    """Round and stay float64 (PostgreSQL rounds doubles through NUMERIC)."""
    return value.round(digits).cast("float64")
