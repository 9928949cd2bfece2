"""What every source adapter provides."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import pyarrow as pa

from revloop.errors import InputFileError
from revloop.ingest.readers import SourceFile
from revloop.ingest.spec import EntitySpec


class Adapter(ABC):
    """Maps the files of one source system to canonical entity specs."""

    source: str

    @abstractmethod
    def specs_for(self, src: SourceFile) -> list[EntitySpec]:
        """The entities this file yields, primary first; InputFileError if unrecognised."""

    def read_options_for(self, path: Path) -> dict[str, Any]:
        """Reader settings this source fixes for a file (delimiter, encoding)."""
        return {}

    def prepare(self, path: Path, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Clean a source batch before the specs run (e.g. blank placeholder values)."""
        return batch


def object_name(path: Path) -> str:
    """``exports/Opportunity_2024.csv`` → ``opportunity_2024``; lower-case stem."""
    name = path.name
    for suffix in path.suffixes:
        name = name.removesuffix(suffix)
    return name.strip().lower()


def match_object(path: Path, objects: dict[str, str], explicit: str | None, source: str) -> str:
    """Which export object a file holds, from ``--entity`` or its file name."""
    if explicit:
        key = explicit.strip().lower()
        if key in objects:
            return objects[key]
        raise InputFileError(str(path), f"unknown {source} object {explicit!r}; known: "
                             f"{', '.join(sorted(set(objects)))}", code="unknown_object")
    stem = object_name(path)
    for alias in sorted(objects, key=len, reverse=True):
        if stem == alias or stem.startswith(alias + "_") or stem.startswith(alias + "-") \
                or stem.startswith(alias + "."):
            return objects[alias]
    raise InputFileError(
        str(path),
        f"cannot tell which {source} object this file holds from its name; name it after the "
        f"object (e.g. {sorted(objects)[0]}.csv) or pass --entity; known: "
        f"{', '.join(sorted(set(objects)))}",
        code="unknown_object",
    )
