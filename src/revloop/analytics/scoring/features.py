"""Feature queries: named Ibis columns plus their :class:`FeatureSpec`, fetched as pandas.

Columns are selected under safe aliases (``f0``, ``f1``, …: every engine accepts them, and
custom attribute names may hold spaces or punctuation) and renamed to the readable feature
names after fetching.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from revloop.analytics.scoring.estimator import FeatureSpec


@dataclass
class FeatureQuery:
    """An Ibis relation of keys + features, and what each feature is."""

    table: Any  # Ibis table: key columns, then f0…fn
    keys: list[str]
    specs: list[FeatureSpec]
    aliases: dict[str, str] = field(default_factory=dict)  # alias → feature name

    def fetch(self) -> pd.DataFrame:
        """Execute and return a DataFrame with the readable feature names, in one order on
        every engine: by the keys, then by every other column (SQL promises no row order,
        and the rows' order decides cross-validation folds and LightGBM's sampling)."""
        df = self.table.to_pyarrow().to_pandas()
        order = self.keys + [c for c in df.columns if c not in self.keys]
        df = df.sort_values(order, kind="stable", na_position="last", ignore_index=True)
        return df.rename(columns=self.aliases)


class FeatureBuilder:
    """Collects features for one relation: ``add(expr, spec)`` then ``query(table, keys)``."""

    def __init__(self) -> None:
        self.columns: dict[str, Any] = {}
        self.specs: list[FeatureSpec] = []
        self.aliases: dict[str, str] = {}

    def add(self, expr: Any, spec: FeatureSpec) -> None:
        """Add one feature."""
        alias = f"f{len(self.specs)}"
        self.columns[alias] = expr.cast("float64") if spec.kind == "numeric" else \
            expr.cast("string")
        self.specs.append(spec)
        self.aliases[alias] = spec.name

    def query(self, table: Any, keys: dict[str, Any],
              extra: dict[str, Any] | None = None) -> FeatureQuery:
        """The relation selecting ``keys``, ``extra`` helper columns and every feature."""
        rel = table.select(**keys, **(extra or {}), **self.columns)
        return FeatureQuery(rel, list(keys), list(self.specs), dict(self.aliases))
