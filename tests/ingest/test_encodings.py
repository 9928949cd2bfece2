"""Encodings of real CRM exports: detected per file, mixed files decoded without losing a row
(repaired rows flagged in the result), a forced --encoding never crashing."""

from __future__ import annotations

from pathlib import Path

import pytest

from revloop.ingest.adapters import get_adapter
from revloop.ingest.pipeline import ImportOptions, ImportResult, run_import
from revloop.ingest.readers import ReadOptions
from revloop.ingest.textdecode import detect
from revloop.store import Store
from tests.ingest.helpers import quarantined, write

HEADER = "Id,Name,BillingCity,CreatedDate"


def _accounts(n: int = 30) -> list[str]:
    return [f"001A{i:04d},Société Générale {i},Besançon,2024-01-{i % 28 + 1:02d}T10:00:00.000Z"
            for i in range(1, n + 1)]


def _latin1_with_stray_utf8(tmp_path: Path) -> Path:
    """A cp1252 Salesforce export whose lines 5 and 9 were written in UTF-8 (``Ã©`` when read
    as cp1252), and whose line 12 holds a byte cp1252 does not define (0x81)."""
    lines = [HEADER.encode("cp1252")]
    for number, text in enumerate(_accounts(), start=2):
        if number in (5, 9):
            lines.append(text.encode("utf-8"))
        elif number == 12:
            lines.append(text.replace("Besançon", "Besan\x81on").encode("latin-1"))
        else:
            lines.append(text.encode("cp1252"))
    return write(tmp_path / "Account.csv", b"\r\n".join(lines) + b"\r\n")


def _import(store: Store, path: Path, encoding: str | None = None) -> ImportResult:
    return run_import(store, get_adapter("salesforce"), [path],
                      ImportOptions(read=ReadOptions(encoding=encoding)))


def _names(store: Store) -> dict[str, tuple[str, str]]:
    rows = store.table("raw_accounts").to_pyarrow().to_pylist()
    return {r["account_id"]: (r["name"], r["custom"]) for r in rows}


def test_latin1_export_with_stray_utf8_is_detected_and_nothing_is_lost(
        duck: Store, tmp_path: Path) -> None:
    result = _import(duck, _latin1_with_stray_utf8(tmp_path))
    counts, report = result.entities["accounts"], result.files[0]
    assert (counts.read, counts.stored, counts.quarantined) == (30, 30, 0)
    assert report.encoding == "cp1252"
    assert (report.repaired_rows, report.repaired_lines) == (3, [5, 9, 12])
    names = _names(duck)
    # the UTF-8 lines and the cp1252 lines read alike
    assert names["001A0004"][0] == names["001A0010"][0].replace("10", "4") == \
        "Société Générale 4"
    assert "Besan\ufffdon" in names["001A0011"][1]
    notices = " ".join(report.notices)
    assert "2 rows of this cp1252 file are written in UTF-8" in notices
    assert "lines 5, 9" in notices and "line 12" in notices
    assert quarantined(duck) == []


def test_forced_cp1252_names_the_lines_and_never_raises(duck: Store, tmp_path: Path) -> None:
    result = _import(duck, _latin1_with_stray_utf8(tmp_path), encoding="cp1252")
    report = result.files[0]
    assert (result.total("stored"), report.repaired_lines) == (30, [12])
    assert any("not valid cp1252" in n and "line 12" in n for n in report.notices)
    # forced: every byte is cp1252, so the UTF-8 lines read as mojibake (that is what was asked)
    assert _names(duck)["001A0004"][0] == "SociÃ©tÃ© GÃ©nÃ©rale 4"


def test_utf8_export_with_stray_cp1252_bytes(duck: Store, tmp_path: Path) -> None:
    lines = [HEADER.encode()] + [t.encode("utf-8") for t in _accounts()]
    lines[7] = _accounts()[6].encode("cp1252")  # line 8: one row saved by a cp1252 tool
    result = _import(duck, write(tmp_path / "Account.csv", b"\n".join(lines) + b"\n"))
    report = result.files[0]
    assert (report.encoding, report.repaired_rows, report.repaired_lines) == ("utf-8", 1, [8])
    assert result.total("stored") == 30 and result.total("quarantined") == 0
    assert _names(duck)["001A0007"][0] == "Soci\ufffdt\ufffd G\ufffdn\ufffdrale 7"
    assert any("--encoding cp1252" in n for n in report.notices)


def test_utf8_and_utf16_files_are_untouched(duck: Store, tmp_path: Path) -> None:
    text = HEADER + "\n" + "\n".join(_accounts(5)) + "\n"
    plain = _import(duck, write(tmp_path / "a" / "Account.csv", text.encode("utf-8")))
    wide = _import(duck, write(tmp_path / "b" / "Account.csv", text.encode("utf-16")))
    assert (plain.files[0].encoding, plain.files[0].repaired_rows) == ("utf-8", 0)
    assert wide.files[0].encoding == "utf-16-le" and wide.total("duplicates") == 5


@pytest.mark.parametrize(("encoding", "words"), [
    ("cp1252", ["Société Générale", "Crème brûlée SARL", "Jürgen Weiß", "Zoë"]),
    ("cp1251", ["Общество с ограниченной ответственностью", "Москва", "Привет мир"]),
])
def test_detect_names_the_code_page(encoding: str, words: list[str]) -> None:
    sample = b"id,name\n" + b"".join(f"{i},{w}\n".encode(encoding) for i, w in enumerate(words))
    assert detect(sample) == encoding
    assert detect("id,name\n1,Gämma\n".encode()) == "utf-8"


def test_jsonl_mixed_line_is_kept(duck: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "accounts.jsonl",
                 '{"account_id": "a1", "name": "Café"}\n'.encode()
                 + b'{"account_id": "a2", "name": "Caf\xe9"}\n')
    result = run_import(duck, get_adapter("canonical"), [path])
    assert (result.total("stored"), result.files[0].repaired_lines) == (2, [2])
