"""docs/schema.md is generated from the schema in code and must not drift."""

from __future__ import annotations

from revloop.model.schema_doc import schema_markdown
from revloop.schema import ENTITIES
from tests.conftest import ROOT


def test_docs_schema_md_matches_the_code() -> None:
    committed = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    assert committed == schema_markdown(), "regenerate with: make schema-doc"


def test_every_entity_and_column_is_documented() -> None:
    text = schema_markdown()
    for ent in ENTITIES:
        assert f"## `{ent.name}`" in text
        for col in ent.columns:
            assert f"| `{col.name}` |" in text
