"""Every malformed input gets its own clear message, and nothing stored is lost."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from revloop.errors import ConfigError, InputFileError
from revloop.ingest.adapters import get_adapter
from revloop.ingest.pipeline import ImportOptions, run_import
from revloop.store import Store
from tests.ingest.helpers import canonical, quarantined, snapshot, write

GOOD = "account_id,name,domain,employees,annual_revenue,created_at\n" \
       "a1,Acme,acme.com,120,1000000,2024-01-05\n"


@pytest.fixture
def seeded(duck: Store, tmp_path: Path) -> Store:
    """A store that already holds one account (so 'unchanged' means something)."""
    canonical(duck, write(tmp_path / "seed" / "accounts.csv", GOOD))
    return duck


def _file_error(store: Store, path: Path, code: str, *fragments: str, **read: object) -> str:
    before = snapshot(store)
    with pytest.raises(InputFileError) as info:
        canonical(store, path, **read)
    message = str(info.value)
    assert info.value.code == code, message
    assert message.startswith(str(path)), message
    for fragment in fragments:
        assert fragment in message, message
    assert snapshot(store) == before
    return message


def test_wrong_delimiter(seeded: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.csv", GOOD.replace(",", ";"))
    _file_error(seeded, path, "wrong_delimiter",
                "looks semicolon-separated, not comma-separated", "--sep ';'")
    # …and with the right separator it imports
    assert canonical(seeded, path, delimiter=";").reconciles


def test_non_utf8_bytes_keep_the_row(seeded: Store, tmp_path: Path) -> None:
    """A Latin-1 file is detected as such; forced to UTF-8 its byte becomes U+FFFD and the
    row is kept and flagged (it used to be quarantined)."""
    data = (GOOD + "a2,Caf\xe9 Ltd,cafe.fr,10,5,2024-02-01\na3,Beta,beta.io,5,5,2024-02-01\n")
    path = write(tmp_path / "accounts.csv", data.encode("latin-1"))
    result = canonical(seeded, path, encoding="utf-8")
    assert (result.entities["accounts"].stored, result.entities["accounts"].quarantined) == (2, 0)
    assert (result.files[0].repaired_rows, result.files[0].repaired_lines) == (1, [3])
    assert any("--encoding cp1252" in n for n in result.files[0].notices)
    assert quarantined(seeded) == []
    names = {r["account_id"]: r["name"]
             for r in seeded.table("raw_accounts").to_pyarrow().to_pylist()}
    assert names["a2"] == "Caf\ufffd Ltd"
    # detected, the same file is read as cp1252: the row is updated with the right name
    again = canonical(seeded, path)
    assert (again.files[0].encoding, again.entities["accounts"].updated) == ("cp1252", 1)


def test_bom_is_skipped_and_noted(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.csv", b"\xef\xbb\xbf" + GOOD.encode())
    result = canonical(duck, path)
    assert result.entities["accounts"].stored == 1
    assert "byte-order mark" in result.files[0].notices[0]
    assert duck.table("raw_accounts").account_id.to_pyarrow().to_pylist() == ["a1"]


def test_missing_required_column(seeded: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.csv", "name,domain\nAcme,acme.com\n")
    _file_error(seeded, path, "missing_column", "missing required column 'account_id'",
                "the header has: name, domain")


def test_unknown_column_type_in_a_mapping_file(tmp_path: Path) -> None:
    mapping = write(tmp_path / "m.yaml", """
name: m
files:
  - match: "*.csv"
    entities:
      - entity: contacts
        fields: {contact_id: id}
        custom: rest
        types: {visits: intger}
""")
    with pytest.raises(ConfigError, match="unknown column type 'intger' for 'visits'; "
                       "expected one of string, integer"):
        get_adapter("mapped", mapping=mapping)


def test_unknown_column_type_in_parquet(seeded: Store, tmp_path: Path) -> None:
    path = tmp_path / "accounts.parquet"
    pq.write_table(pa.table({"account_id": ["a9"], "employees": [[1, 2]]}), path)
    _file_error(seeded, path, "unknown_column_type",
                "column 'employees' is of type list<element: int64>",
                "cannot store as integer")


def test_unparseable_date(seeded: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.csv", GOOD + "a2,Beta,beta.io,5,5,2024-13-45\n")
    result = canonical(seeded, path)
    assert result.entities["accounts"].quarantined == 1
    (row,) = quarantined(seeded)
    assert (row["line"], row["column_name"], row["value"], row["code"]) == (
        3, "created_at", "2024-13-45", "unparseable_date")
    assert row["reason"].startswith("created_at is not a date/time in a known format (ISO 8601")
    assert seeded.count("raw_accounts") == 1


@pytest.mark.parametrize(("value", "code", "reason"), [
    ("-250", "negative_amount", "annual_revenue must not be negative"),
    ("12k", "not_a_number", "annual_revenue must be a number (like 1200.50)"),
])
def test_negative_or_non_numeric_amount(seeded: Store, tmp_path: Path, value: str, code: str,
                                        reason: str) -> None:
    path = write(tmp_path / "accounts.csv", GOOD + f"a2,Beta,beta.io,5,{value},2024-02-01\n")
    result = canonical(seeded, path)
    assert result.entities["accounts"].quarantined == 1 and result.reconciles
    (row,) = quarantined(seeded)
    assert (row["line"], row["column_name"], row["value"], row["code"], row["reason"]) == (
        3, "annual_revenue", value, code, reason)
    assert seeded.count("raw_accounts") == 1


def test_duplicate_ids_with_different_content(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.csv",
                 GOOD + "a1,Acme Inc,acme.com,120,1000000,2024-01-05\n"
                 "a1,Acme,acme.com,120,1000000,2024-01-05\n")
    result = canonical(duck, path)
    counts = result.entities["accounts"]
    assert (counts.read, counts.stored, counts.duplicates, counts.quarantined) == (3, 1, 1, 1)
    (row,) = quarantined(duck)
    assert row["line"] == 3 and row["code"] == "duplicate_key_conflict"
    assert row["reason"] == ("accounts 'a1' already appeared at line 2 with different content; "
                             "the first one was kept")
    names = duck.table("raw_accounts").name.to_pyarrow().to_pylist()
    assert names == ["Acme"]


def test_orphan_references_are_kept_and_flagged(seeded: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "contacts.csv",
                 "contact_id,account_id,email\nc1,a1,x@acme.com\nc2,a404,y@nowhere.com\n")
    result = canonical(seeded, path)
    counts = result.entities["contacts"]
    assert counts.stored == 2 and counts.orphans == {"account_id": 1}
    assert seeded.count("raw_contacts") == 2


def test_empty_file(seeded: Store, tmp_path: Path) -> None:
    result = canonical(seeded, write(tmp_path / "accounts.csv", ""))
    assert (result.total("read"), result.files[0].rows, result.not_imported) == (0, 0, [])
    assert "the file is empty (0 bytes)" in result.files[0].notices[0]


def test_header_only_file(seeded: Store, tmp_path: Path) -> None:
    result = canonical(seeded, write(tmp_path / "accounts.csv", "account_id,name\n"))
    assert (result.total("read"), result.files[0].rows, result.reconciles) == (0, 0, True)
    assert "has a header but no data rows" in result.files[0].notices[0]


def test_truncated_last_line_with_missing_fields(seeded: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.csv", GOOD + "a2,Beta,beta.io,5,5,2024-02-01\na3,Gam")
    result = canonical(seeded, path)
    assert result.entities["accounts"].quarantined == 1 and result.reconciles
    (row,) = quarantined(seeded)
    assert (row["line"], row["code"]) == (4, "wrong_field_count")
    assert row["reason"] == ("has 2 fields, expected 6 — the file does not end with a line "
                             "break: it looks truncated")
    assert sorted(seeded.table("raw_accounts").account_id.to_pyarrow().to_pylist()) == [
        "a1", "a2"]


def test_truncated_last_line_inside_a_quoted_value(seeded: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.csv", GOOD + 'a2,"Beta, the company')
    result = canonical(seeded, path)
    assert result.entities["accounts"].quarantined == 1
    (row,) = quarantined(seeded)
    assert row["code"] == "truncated_last_line" and row["line"] == 3
    assert "ends inside a quoted value" in row["reason"]
    assert seeded.count("raw_accounts") == 1


def test_ten_megabyte_field_is_quarantined_not_stored(seeded: Store, tmp_path: Path) -> None:
    big = "x" * (10 << 20)
    path = write(tmp_path / "accounts.csv",
                 GOOD + f"a2,{big},beta.io,5,5,2024-02-01\na3,Gamma,g.io,5,5,2024-02-01\n")
    result = canonical(seeded, path)
    counts = result.entities["accounts"]
    assert (counts.stored, counts.quarantined) == (1, 1)
    (row,) = quarantined(seeded)
    assert (row["line"], row["column_name"], row["code"]) == (3, "name", "field_too_large")
    assert row["reason"] == ("name is 10.0 MiB, over the 1 MiB limit (REVLOOP_MAX_FIELD_BYTES)")
    assert len(row["value"]) == 200  # a preview, not the 10 MB


def test_wrong_field_count_in_the_middle(seeded: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.csv",
                 GOOD + "a2,Beta\na3,Gamma,g.io,5,5,2024-02-01\n")
    result = canonical(seeded, path)
    assert result.entities["accounts"].quarantined == 1
    (row,) = quarantined(seeded)
    assert (row["line"], row["reason"]) == (3, "has 2 fields, expected 6")
    stored = sorted(seeded.table("raw_accounts").account_id.to_pyarrow().to_pylist())
    assert stored == ["a1", "a3"]


def test_unknown_column_in_a_canonical_file_without_custom(seeded: Store, tmp_path: Path
                                                           ) -> None:
    path = write(tmp_path / "campaign_spend.csv", "campaign_id,day,amout\nc1,2024-01-01,5\n")
    _file_error(seeded, path, "unknown_column", "unknown column 'amout' for campaign_spend")


def test_file_name_that_names_no_entity(seeded: Store, tmp_path: Path) -> None:
    _file_error(seeded, write(tmp_path / "stuff.csv", GOOD), "unknown_object",
                "cannot tell which canonical object this file holds")


def test_a_bad_file_among_good_ones_writes_nothing_with_all_or_nothing(
        seeded: Store, tmp_path: Path) -> None:
    good = write(tmp_path / "contacts.csv", "contact_id,email\nc1,a@b.com\n")
    bad = write(tmp_path / "accounts.csv", "name\nAcme\n")
    before = snapshot(seeded)
    with pytest.raises(InputFileError, match="missing required column 'account_id'"):
        run_import(seeded, get_adapter("canonical"), [good, bad],
                   ImportOptions(all_or_nothing=True))
    assert snapshot(seeded) == before


def test_quarantine_is_not_doubled_on_reimport(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.csv", GOOD + "a2,Beta,beta.io,x,5,2024-02-01\n")
    first = canonical(duck, path)
    second = canonical(duck, path)
    assert first.entities["accounts"].quarantined == second.entities["accounts"].quarantined == 1
    assert second.total("stored") == 0 and second.reconciles
    assert len(quarantined(duck)) == 1


def test_jsonl_bad_line(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.jsonl",
                 '{"account_id": "a1", "employees": 5}\n{"account_id": "a2",\n'
                 '{"account_id": "a3", "tags": ["x"]}\n')
    result = run_import(duck, get_adapter("canonical"), [path])
    counts = result.entities["accounts"]
    assert (counts.read, counts.stored, counts.quarantined) == (3, 2, 1)
    (row,) = quarantined(duck)
    assert row["line"] == 2 and row["code"] == "invalid_json"
    custom = duck.table("raw_accounts").filter(lambda t: t.account_id == "a3").custom \
        .to_pyarrow().to_pylist()
    assert custom == ['{"tags":"[\\"x\\"]"}']
