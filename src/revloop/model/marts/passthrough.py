"""Marts that are their staging table: every entity identity resolution does not touch."""

from __future__ import annotations

from collections.abc import Collection

import ibis

from revloop.model import tables
from revloop.model.steps import BuildOptions, Inputs, Step


def _step(mart: str) -> Step:
    source = tables.staging(mart)

    def build(inputs: Inputs, options: BuildOptions) -> ibis.Table:
        return inputs[source]

    build.__doc__ = f"``{mart}``: a copy of ``{source}``."
    return Step(name=mart, inputs=(source,), build=build, doc=f"{mart} as staged")


def steps(built_otherwise: Collection[str]) -> tuple[Step, ...]:
    """A copy step for every entity mart not in ``built_otherwise``, in schema order."""
    return tuple(_step(m) for m in tables.ENTITY_MARTS if m not in built_otherwise)
