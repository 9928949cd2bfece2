"""Odd files: each is read correctly, or stopped by one InputFileError naming the file, with a
stable code, and nothing is written."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from revloop.errors import InputFileError
from revloop.store import Store
from tests.ingest.helpers import canonical, quarantined, snapshot, write

GOOD = ("account_id,name,domain,employees,annual_revenue,created_at\n"
        "a1,Acme,acme.com,120,1000000,2024-01-05\n"
        "a2,\"Beta, Inc\",beta.io,x,5,2024-02-01\n"
        "a3,Gämma,g.io,7,5,2024-02-01\n")


def _stored(store: Store) -> dict[str, dict[str, Any]]:
    rows = store.table("raw_accounts").to_pyarrow().to_pylist()
    return {r["account_id"]: r for r in rows}


def _reads_like_good(store: Store, path: Path, **read: Any) -> None:
    """``path`` holds GOOD in some disguise: it must import exactly like the plain file."""
    result = canonical(store, path, **read)
    counts = result.entities["accounts"]
    assert (counts.read, counts.stored, counts.quarantined) == (3, 2, 1), counts
    (bad,) = quarantined(store)
    assert (bad["line"], bad["column_name"], bad["code"]) == (3, "employees", "not_an_integer")
    stored = _stored(store)
    assert stored["a3"]["name"] == "Gämma" and stored["a1"]["employees"] == 120


def _file_error(store: Store, path: Path, code: str, *fragments: str, **read: Any) -> str:
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


# -- 4. JSON lines ---------------------------------------------------------------------------
def test_jsonl_key_first_seen_after_line_1000(duck: Store, tmp_path: Path) -> None:
    lines = [json.dumps({"account_id": f"a{i}", "name": f"n{i}"}) for i in range(1500)]
    lines.append(json.dumps({"account_id": "late", "industry": "Software", "shoe": 42}))
    path = write(tmp_path / "accounts.jsonl", "\n".join(lines) + "\n")
    result = canonical(duck, path, batch_rows=400)
    assert result.entities["accounts"].stored == 1501 and result.reconciles
    stored = _stored(duck)
    assert (stored["late"]["industry"], json.loads(stored["late"]["custom"])) == (
        "Software", {"shoe": "42"})
    assert stored["late"]["name"] is None
    assert (stored["a7"]["industry"], stored["a7"]["custom"]) == (None, None)


def test_jsonl_invalid_utf8_line_is_kept_and_flagged(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.jsonl",
                 b'{"account_id": "a1"}\n{"account_id": "a2", "name": "Caf\xe9"}\n'
                 b'{"account_id": "a3"}\n')
    result = canonical(duck, path, encoding="utf-8")
    counts = result.entities["accounts"]
    assert (counts.read, counts.stored, counts.quarantined) == (3, 3, 0)
    assert (result.files[0].repaired_rows, result.files[0].repaired_lines) == (1, [2])
    assert any("--encoding cp1252" in n for n in result.files[0].notices)
    assert _stored(duck)["a2"]["name"] == "Caf\ufffd"


def test_jsonl_unknown_key_for_an_entity_without_custom(duck: Store, tmp_path: Path) -> None:
    lines = [json.dumps({"campaign_id": "c1", "day": "2024-01-01", "amount": 5})] * 1001
    lines.append(json.dumps({"campaign_id": "c1", "day": "2024-01-02", "amout": 5}))
    path = write(tmp_path / "campaign_spend.jsonl", "\n".join(lines) + "\n")
    _file_error(duck, path, "unknown_column", "unknown column 'amout' for campaign_spend")


# -- 5. encodings and compression ------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be-bom", "utf-32"])
def test_utf16_and_utf32_with_a_bom_are_read(duck: Store, tmp_path: Path,
                                             encoding: str) -> None:
    data = ("\ufeff" + GOOD).encode("utf-16-be") if encoding == "utf-16-be-bom" \
        else GOOD.encode(encoding)
    path = write(tmp_path / "accounts.csv", data)
    _reads_like_good(duck, path)
    notices = canonical(duck, path).files[0].notices
    assert any("UTF-" in n and "byte-order mark" in n for n in notices), notices


def test_utf16_without_a_bom_names_the_encoding(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.csv", GOOD.encode("utf-16-le"))
    _file_error(duck, path, "wrong_encoding", "--encoding utf-16-le")
    _reads_like_good(duck, path, encoding="utf-16-le")


def test_crlf_utf16_file(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.csv", GOOD.replace("\n", "\r\n").encode("utf-16"))
    _reads_like_good(duck, path)


@pytest.mark.parametrize("name", ["accounts.csv.gz", "accounts.csv"])
def test_gzip_files_are_read_transparently(duck: Store, tmp_path: Path, name: str) -> None:
    path = write(tmp_path / name, gzip.compress(GOOD.encode()))
    _reads_like_good(duck, path)


@pytest.mark.parametrize(("name", "compress"), [
    ("accounts.csv.bz2", bz2.compress), ("accounts.csv.xz", lzma.compress)])
def test_bz2_and_xz_files_are_read(duck: Store, tmp_path: Path, name: str,
                                   compress: Any) -> None:
    _reads_like_good(duck, write(tmp_path / name, compress(GOOD.encode())))


def test_gzip_jsonl_and_tsv(duck: Store, tmp_path: Path) -> None:
    jsonl = write(tmp_path / "contacts.jsonl.gz",
                  gzip.compress(b'{"contact_id": "c1", "email": "x@y.com"}\n'))
    tsv = write(tmp_path / "accounts.tsv.gz", gzip.compress(GOOD.replace(",", "\t").encode()))
    result = canonical(duck, jsonl, tsv)
    assert (result.entities["contacts"].stored, result.entities["accounts"].stored) == (1, 2)


def test_truncated_gzip_is_one_clear_error(duck: Store, tmp_path: Path) -> None:
    data = gzip.compress((GOOD * 2000).encode())
    path = write(tmp_path / "accounts.csv.gz", data[: len(data) // 2])
    _file_error(duck, path, "unreadable_file", "gzip")


def test_zip_or_excel_file_is_refused_clearly(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.csv", b"PK\x03\x04" + b"\x00" * 200)
    _file_error(duck, path, "unsupported_format", "zip archive")


# -- 5. Excel's sep= line, old Mac line breaks -----------------------------------------------
def test_excel_sep_line_is_honoured(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.csv", "sep=;\n" + GOOD.replace(",", ";").replace(
        '"Beta; Inc"', '"Beta, Inc"'))
    result = canonical(duck, path)
    counts = result.entities["accounts"]
    assert (counts.stored, counts.quarantined) == (2, 1)
    (bad,) = quarantined(duck)
    assert (bad["line"], bad["code"]) == (4, "not_an_integer")  # header is line 2
    assert any("sep=;" in n for n in result.files[0].notices)
    assert _stored(duck)["a1"]["employees"] == 120


def test_excel_sep_line_with_a_bom_and_crlf(duck: Store, tmp_path: Path) -> None:
    body = "sep=|\r\n" + GOOD.replace(",", "|").replace('"Beta| Inc"', "Beta").replace(
        "\n", "\r\n")
    path = write(tmp_path / "accounts.csv", b"\xef\xbb\xbf" + body.encode())
    result = canonical(duck, path)
    assert result.entities["accounts"].stored == 2
    (bad,) = quarantined(duck)
    assert bad["line"] == 4


def test_cr_only_line_breaks_are_read(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.csv", GOOD.replace("\n", "\r"))
    _reads_like_good(duck, path)


def test_cr_only_truncated_last_line(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.csv", GOOD.replace("\n", "\r") + 'a4,"Delta')
    result = canonical(duck, path)
    assert result.entities["accounts"].quarantined == 2 and result.reconciles
    assert [r["code"] for r in quarantined(duck)] == ["not_an_integer", "truncated_last_line"]


# -- 5. unreadable files ---------------------------------------------------------------------
def _parquet_with_corrupt_page(path: Path) -> None:
    table = pa.table({"account_id": [f"a{i}" for i in range(20_000)],
                      "employees": list(range(20_000))})
    pq.write_table(table, path, compression="snappy", row_group_size=5_000)
    meta = pq.ParquetFile(path).metadata
    column = meta.row_group(2).column(0)
    start = column.data_page_offset + 40
    data = bytearray(path.read_bytes())
    data[start:start + 2000] = os.urandom(2000)
    path.write_bytes(bytes(data))


def test_corrupt_parquet_page_names_the_file(duck: Store, tmp_path: Path) -> None:
    path = tmp_path / "accounts.parquet"
    _parquet_with_corrupt_page(path)
    _file_error(duck, path, "unreadable_file", "cannot read the Parquet file")


def test_truncated_parquet_names_the_file(duck: Store, tmp_path: Path) -> None:
    path = tmp_path / "accounts.parquet"
    pq.write_table(pa.table({"account_id": ["a1"]}), path)
    path.write_bytes(path.read_bytes()[:-20])
    _file_error(duck, path, "unreadable_file")


def test_symlink_loop(duck: Store, tmp_path: Path) -> None:
    a, b = tmp_path / "accounts.csv", tmp_path / "other.csv"
    a.symlink_to(b)
    b.symlink_to(a)
    _file_error(duck, a, "symlink_loop", "symlink loop")


def test_dangling_symlink(duck: Store, tmp_path: Path) -> None:
    a = tmp_path / "accounts.csv"
    a.symlink_to(tmp_path / "gone.csv")
    _file_error(duck, a, "file_not_found", "gone.csv")


# -- more odd encodings ----------------------------------------------------------------------
def test_undefined_cp1252_byte_is_replaced_and_the_row_flagged(duck: Store,
                                                               tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.csv", b"account_id,name\na1,x\x81y\n")
    result = canonical(duck, path, encoding="cp1252")
    assert (result.total("stored"), result.files[0].repaired_lines) == (1, [2])
    assert "not valid cp1252" in " ".join(result.files[0].notices)
    assert _stored(duck)["a1"]["name"] == "x\ufffdy"


def test_truncated_utf16_is_one_clear_error(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.csv", GOOD.encode("utf-16") + b"A")
    _file_error(duck, path, "invalid_encoding", "not valid UTF-16 (little-endian)")


def test_nul_byte_in_the_header(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.csv", b"account_id,na\x00me\na1,x\n")
    _file_error(duck, path, "bad_header", "contains a NUL byte")


def test_jsonl_with_a_utf8_bom(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.jsonl", b'\xef\xbb\xbf{"account_id": "a1"}\n')
    assert canonical(duck, path).entities["accounts"].stored == 1


def test_excel_sep_line_wins_over_a_wrong_sep_line_header(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.csv", "sep=;\naccount_id,name\na1,x\n")
    _file_error(duck, path, "wrong_delimiter", "its first line says 'sep=;'")


def test_utf16_jsonl(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.jsonl",
                 '{"account_id": "a1", "name": "Gämma"}\n{"account_id": "a2"}\n'.encode("utf-16"))
    assert canonical(duck, path).entities["accounts"].stored == 2
    assert _stored(duck)["a1"]["name"] == "Gämma"


def test_jsonl_byte_not_in_the_given_encoding(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.jsonl",
                 b'{"account_id": "a1", "name": "Caf\xe9"}\n{"account_id": "a2", "name": "\x81"}\n')
    result = canonical(duck, path, encoding="cp1252")
    assert result.entities["accounts"].stored == 2 and result.reconciles
    assert quarantined(duck) == [] and result.files[0].repaired_lines == [2]
    assert _stored(duck)["a1"]["name"] == "Café"
    assert _stored(duck)["a2"]["name"] == "\ufffd"
