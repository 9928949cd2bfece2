"""How the date columns of one file are read: the order of day and month, or a fixed format.

The order of ``02/03/2024`` cannot be told from one value; it is decided per file and column
from the whole column before any row is parsed (see :func:`plan_date_formats`).
"""

from __future__ import annotations

from dataclasses import dataclass

from revloop.ingest.readers import SourceFile
from revloop.ingest.spec import EntitySpec


@dataclass(frozen=True)
class DateOptions:
    """What the user said about the files' dates (``--date-format``, ``--dayfirst``)."""

    date_format: str | None = None  # a strptime format (or "iso") every date column is read with
    dayfirst: bool | None = None  # None: decided per file from the values


def plan_date_formats(src: SourceFile, specs: list[EntitySpec], options: DateOptions
                      ) -> list[EntitySpec]:
    """``specs`` with the date formats their date columns are read with in ``src``
    (``EntitySpec.formats``: canonical column → formats tried in order)."""
    return specs
