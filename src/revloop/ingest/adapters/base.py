"""What every source adapter provides."""

from __future__ import annotations

import re
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


#: Words that, after an object's name, make the name another object's (Salesforce
#: ``opportunity_line_item``, ``account_contact_role``, ``campaign_member_status``; HubSpot
#: ``deal_property_history``, ``contact_list``): such a file is not the object's, whatever
#: its prefix. A suffix such as ``_2024``, ``-export`` or ``_emea`` still names the object.
OTHER_OBJECT_WORDS = frozenset({
    "line", "item", "items", "history", "histories", "share", "shares", "team", "partner",
    "partners", "competitor", "competitors", "field", "feed", "feeds", "contact", "role",
    "roles", "status", "relation", "relations", "property", "properties", "list", "lists",
    "login", "license", "tag", "tags", "split", "splits", "schedule", "schedules", "change",
    "stage", "stages", "pipeline", "pipelines", "association", "associations", "merge",
    "company", "deal", "engagement", "campaign", "lead", "account", "opportunity", "member",
    "members", "owner", "owners", "form", "forms", "event", "events", "task", "tasks",
})


def names_the_object(rest: str) -> bool:
    """Whether what follows an object's name in a file name (``_2024``, ``-export``,
    ``_line_item``) leaves it that object's file: not when its first word makes the name
    another object's (:data:`OTHER_OBJECT_WORDS`)."""
    words = [w for w in re.split(r"[-_.\s]+", rest) if w]
    return not words or words[0] not in OTHER_OBJECT_WORDS


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
        if stem == alias or (stem[len(alias):len(alias) + 1] in ("_", "-", ".")
                             and stem.startswith(alias)
                             and names_the_object(stem[len(alias):])):
            return objects[alias]
    raise InputFileError(
        str(path),
        f"cannot tell which {source} object this file holds from its name; name it after the "
        f"object (e.g. {sorted(objects)[0]}.csv) or pass --entity; known: "
        f"{', '.join(sorted(set(objects)))}",
        code="unknown_object",
    )
