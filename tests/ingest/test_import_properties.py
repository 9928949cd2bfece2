"""Property test: random canonical ``accounts`` CSV files against a plain-Python oracle.

Every generated cell is text as a person or an export tool might write it; the oracle parses it
with Python's own ``float``/``Decimal``/``datetime`` (not Arrow) and says whether the row must be
stored (with which values) or quarantined. Then, for each file:

* every input row is stored, a duplicate or quarantined (``read = stored + duplicates +
  quarantined``), and exactly the rows the oracle says are quarantined;
* every stored value equals the oracle's;
* importing the same file again stores nothing and adds no quarantine row.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import math
import re
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revloop.ingest.adapters import get_adapter
from revloop.ingest.dates import DateOptions
from revloop.ingest.pipeline import ImportOptions, run_import
from revloop.ingest.readers import ReadOptions
from revloop.store import connect
from tests.ingest.helpers import quarantined

COLUMNS = ("account_id", "name", "employees", "annual_revenue", "created_at", "custom", "tier")
_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?", re.ASCII)
_NON_FINITE = re.compile(r"[-+]?(inf|infinity|nan)", re.IGNORECASE)
_INT64 = (-(2**63), 2**63 - 1)


@dataclass(frozen=True)
class Bad:
    """The oracle's verdict on a value that must quarantine its row."""

    code: str


# -- the oracle: plain Python ----------------------------------------------------------------
def expect_text(text: str) -> Any:
    if "\x00" in text:
        return Bad("nul_byte")
    return None if text.strip() == "" else text


def expect_integer(text: str) -> Any:
    t = text.strip().replace("_", "")
    if not t:
        return None
    if "\x00" in text:
        return Bad("nul_byte")
    if _NON_FINITE.fullmatch(t):
        return Bad("non_finite_number")
    if not _NUMBER.fullmatch(t):
        return Bad("not_an_integer")
    d = Decimal(t)
    if d != d.to_integral_value():
        return Bad("not_an_integer")
    if d.adjusted() > 19 or not _INT64[0] <= int(d) <= _INT64[1]:
        return Bad("integer_out_of_range")
    return int(d)


def expect_amount(text: str) -> Any:
    t = text.strip().replace("_", "")
    if not t:
        return None
    if _NON_FINITE.fullmatch(t):
        return Bad("non_finite_number")
    if not _NUMBER.fullmatch(t):
        return Bad("not_a_number")
    value = float(t)
    if math.isinf(value):
        return Bad("non_finite_number")
    return Bad("negative_amount") if value < 0 else value


def expect_custom(given: str, tier: str) -> Any:
    """The row's own object with ``tier`` merged in; a key in both quarantines the row."""
    if "\x00" in tier:
        return Bad("nul_byte")
    base = None if given.strip() == "" else json.loads(given)
    if tier == "":
        return base
    if base is not None and "tier" in base:
        return Bad("custom_key_clash")
    return {**(base or {}), "tier": tier}


# -- random cells: (text, what the oracle expects) --------------------------------------------
ALPHABET = list("abcXYZ019 ,;|\t\"'\n\ré漢😀_-.{}\\\x01")
# A NUL byte quarantines the row: rarer, so that most files also store rows.
TEXT = st.one_of(st.text(st.sampled_from(ALPHABET), max_size=12),
                 st.text(st.sampled_from(ALPHABET), max_size=12),
                 st.text(st.sampled_from([*ALPHABET, "\x00"]), max_size=12))

INTEGER_TEXT = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.integers(-(2**64), 2**64).map(lambda i: f"+{i}" if i >= 0 else str(i)),
    st.integers(0, 10**6).map(lambda i: f"00{i}.000"),
    st.builds(lambda m, e: f"{m}e{e}", st.integers(-999, 999), st.integers(-3, 25)),
    st.sampled_from(["", " ", " 42 ", "1_000", "1.5", "12.0", "1e309", "inf", "NaN", "12k",
                     "0x10", "--1", "9223372036854775807", "-9223372036854775808",
                     "9223372036854775808", "1.2345E4", "١٢٣"]),
)
AMOUNT_TEXT = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.floats(min_value=0, max_value=1e12).map(lambda f: f"{f:.2f}"),
    st.builds(lambda m, e: f"{m}e{e}", st.integers(0, 999), st.integers(-400, 400)),
    st.sampled_from(["", "1200.50", " 7 ", "-5", ".5", "5.", "1e309", "-1e309", "inf",
                     "-Infinity", "nan", "12k", "1,5", "0x10", "€5"]),
)
MOMENT = st.datetimes(min_value=dt.datetime(1971, 1, 1), max_value=dt.datetime(2099, 1, 1)
                      ).map(lambda d: d.replace(microsecond=0))


@st.composite
def timestamp_cell(draw: st.DrawFn) -> tuple[str, Any]:
    """A date/time in one of the spellings revloop reads, with the value it means."""
    moment = draw(MOMENT)
    kind = draw(st.sampled_from(["date", "iso", "space", "minutes", "zulu", "offset", "dmy",
                                 "dmy_hm", "ymd_slash", "empty", "bad"]))
    day = moment.replace(hour=0, minute=0, second=0)
    spelled: dict[str, tuple[str, Any]] = {
        "date": (moment.strftime("%Y-%m-%d"), day),
        "iso": (moment.strftime("%Y-%m-%dT%H:%M:%S"), moment),
        "space": (moment.strftime("%Y-%m-%d %H:%M:%S"), moment),
        "minutes": (moment.strftime("%Y-%m-%d %H:%M"), moment.replace(second=0)),
        "zulu": (moment.strftime("%Y-%m-%dT%H:%M:%SZ"), moment),
        "offset": (moment.strftime("%Y-%m-%dT%H:%M:%S+02:00"), moment - dt.timedelta(hours=2)),
        "dmy": (moment.strftime("%d/%m/%Y"), day),
        "dmy_hm": (moment.strftime("%d/%m/%Y %H:%M"), moment.replace(second=0)),
        "ymd_slash": (moment.strftime("%Y/%m/%d"), day),
        "empty": ("", None),
        "bad": (draw(st.sampled_from(["2024-13-45", "yesterday", "45/45/2024"])),
                Bad("unparseable_date")),
    }
    return spelled[kind]


CUSTOM_TEXT = st.one_of(
    st.just(""),
    st.just("{}"),
    st.dictionaries(st.sampled_from(["k", "tier", "x y", "é"]), TEXT.filter(
        lambda s: "\x00" not in s), max_size=3).map(lambda d: json.dumps(d, ensure_ascii=False)),
)


@st.composite
def row(draw: st.DrawFn) -> dict[str, str]:
    return {
        "account_id": draw(st.one_of(st.sampled_from(["a1", "a2", " a3 ", "", "é4"]),
                                     st.text(st.sampled_from("abc012"), min_size=1,
                                             max_size=3))),
        "name": draw(TEXT),
        "employees": draw(INTEGER_TEXT),
        "annual_revenue": draw(AMOUNT_TEXT),
        "created_at": draw(timestamp_cell())[0],
        "custom": draw(CUSTOM_TEXT),
        "tier": draw(TEXT),
    }


@st.composite
def csv_file(draw: st.DrawFn) -> tuple[list[dict[str, str]], list[Any], dict[str, Any]]:
    """Rows (as text), the timestamps they mean, and how the file is written."""
    n = draw(st.integers(1, 25))
    rows, moments = [], []
    for _ in range(n):
        r = draw(row())
        r["created_at"], moment = draw(timestamp_cell())
        rows.append(r)
        moments.append(moment)
    layout = {
        "delimiter": draw(st.sampled_from([",", ";", "\t", "|"])),
        "newline": draw(st.sampled_from(["\n", "\r\n", "\r"])),
        "sep_line": draw(st.booleans()),
        "bom": draw(st.booleans()),
        "gzip": draw(st.booleans()),
        "quote_all": draw(st.booleans()),
    }
    return rows, moments, layout


def _field(value: str, delimiter: str, quote_all: bool) -> str:
    if quote_all or any(c in value for c in (delimiter, '"', "\n", "\r")):
        return '"' + value.replace('"', '""') + '"'
    return value


def write_csv(path: Path, rows: list[dict[str, str]], layout: dict[str, Any]) -> None:
    d, nl = layout["delimiter"], layout["newline"]
    lines = [f"sep={d}"] if layout["sep_line"] else []
    lines.append(d.join(COLUMNS))
    lines += [d.join(_field(r[c], d, layout["quote_all"]) for c in COLUMNS) for r in rows]
    data = (("\ufeff" if layout["bom"] else "") + nl.join(lines) + nl).encode()
    path.write_bytes(gzip.compress(data) if layout["gzip"] else data)


# -- expectations for a whole file -----------------------------------------------------------
def expected_row(r: dict[str, str], moment: Any) -> tuple[Any, ...] | Bad:
    """(name, employees, annual_revenue, created_at, custom) of a storable row, or the first
    problem of one that is not (the file's column order)."""
    key = expect_text(r["account_id"])
    values = (
        Bad("missing_required") if key is None else key,
        expect_text(r["name"]), expect_integer(r["employees"]), expect_amount(r["annual_revenue"]),
        moment, _custom_or_bad(r),
    )
    bad = [v for v in values if isinstance(v, Bad)]
    return bad[0] if bad else values


def _custom_or_bad(r: dict[str, str]) -> Any:
    return expect_custom(r["custom"], r["tier"])


def _content(values: tuple[Any, ...]) -> tuple[Any, ...]:
    # -0.0 and 0.0 hash differently in the store (as text): compare floats by repr
    return tuple(repr(v) if isinstance(v, float) else v for v in values)


def outcome(rows: list[dict[str, str]], moments: list[Any]
            ) -> tuple[dict[Any, tuple[Any, ...]], dict[int, set[str]], int]:
    """Stored rows by key, quarantined record numbers (0-based) with the codes each may have,
    and the number of duplicates."""
    stored: dict[Any, tuple[Any, ...]] = {}
    bad: dict[int, set[str]] = {}
    duplicates = 0
    for i, (r, moment) in enumerate(zip(rows, moments, strict=True)):
        verdict = expected_row(r, moment)
        if isinstance(verdict, Bad):
            bad[i] = _all_codes(r, moment)
        elif verdict[0] not in stored:
            stored[verdict[0]] = verdict
        elif _content(stored[verdict[0]]) == _content(verdict):
            duplicates += 1
        else:
            bad[i] = {"duplicate_key_conflict"}
    return stored, bad, duplicates


def _all_codes(r: dict[str, str], moment: Any) -> set[str]:
    """Every code the row deserves (the store reports one of them)."""
    key = expect_text(r["account_id"])
    checks = [Bad("missing_required") if key is None else key, expect_text(r["name"]),
              expect_integer(r["employees"]), expect_amount(r["annual_revenue"]), moment,
              _custom_or_bad(r)]
    if "\x00" in r["account_id"] + r["name"] + r["tier"]:
        checks.append(Bad("nul_byte"))
    return {c.code for c in checks if isinstance(c, Bad)}


# -- the property ----------------------------------------------------------------------------
@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(csv_file())
def test_every_row_is_stored_exactly_or_quarantined(
        case: tuple[list[dict[str, str]], list[Any], dict[str, Any]]) -> None:
    rows, moments, layout = case
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / ("accounts.csv.gz" if layout["gzip"] else "accounts.csv")
        write_csv(path, rows, layout)
        store = connect(f"duckdb:///{folder / 'store.duckdb'}")
        try:
            _check_import(store, path, rows, moments, layout)
        finally:
            store.close()


def _check_import(store: Any, path: Path, rows: list[dict[str, str]], moments: list[Any],
                  layout: dict[str, Any]) -> None:
    read = {} if layout["sep_line"] else {"delimiter": layout["delimiter"]}
    stored, bad, duplicates = outcome(rows, moments)
    # the cells are written day first (dmy): say so, the file alone may not tell
    options = ImportOptions(read=ReadOptions(**read), dates=DateOptions(dayfirst=True))
    result = run_import(store, get_adapter("canonical"), [path], options)
    counts = result.entities["accounts"]
    assert result.reconciles and counts.read == len(rows), counts
    assert (counts.stored, counts.duplicates, counts.quarantined) == (
        len(stored), duplicates, len(bad)), counts

    first_line = 3 if layout["sep_line"] else 2
    got = {r["line"] - first_line: r["code"] for r in quarantined(store)}
    assert set(got) == set(bad), (got, bad)
    for i, code in got.items():
        assert code in bad[i], (i, code, bad[i], rows[i])

    table = store.table("raw_accounts").to_pyarrow().to_pylist()
    actual = {r["account_id"]: (
        r["account_id"], r["name"], r["employees"], r["annual_revenue"], r["created_at"],
        None if r["custom"] is None else json.loads(r["custom"])) for r in table}
    assert actual == stored

    again = run_import(store, get_adapter("canonical"), [path], options)
    assert again.total("stored") == 0 and again.reconciles
    assert len(quarantined(store)) == len(bad)
