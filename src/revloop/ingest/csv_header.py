"""The header of a delimited file: an Excel ``sep=`` line, the column names, and the first
problems a user can fix (an empty or binary header, the wrong delimiter).

A label used twice (HubSpot exports two ``Billing Contact`` association columns; ``Email`` and
``email`` differ only in case) is kept: the later one becomes ``Billing Contact (2)``."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

from revloop.errors import InputFileError
from revloop.ingest.rawfile import LINE_BREAK, READ_ERRORS
from revloop.ingest.textdecode import ValueDecoder

if TYPE_CHECKING:
    from revloop.ingest.readers import SourceFile

CANDIDATE_DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_EXCEL_SEP = re.compile(r'"?sep=(.)"? *')  # Excel's first line naming the delimiter


def read_header(src: SourceFile) -> None:
    """Set the column names of a delimited file (after an Excel ``sep=`` line, if any), or
    raise the first problem found in its header as an :class:`InputFileError`."""
    p = src.path
    head, complete = _read_head(src)
    lines = LINE_BREAK.split(head, maxsplit=2)
    sep = _EXCEL_SEP.fullmatch(lines[0].decode("latin-1"))  # not stripped: it may be a tab
    if sep:
        src.sep_line, src.header_line = sep.group(1), 2
        src.notices.append(f"Excel's 'sep={sep.group(1)}' first line was honoured and skipped "
                           "(the header is line 2)")
        lines = lines[1:]
    first, body = lines[0], b"\n".join(lines[1:])
    if not head.strip() and complete:  # only blank lines: as good as an empty file
        src.empty = True
        src.notices.append("the file holds only blank lines: nothing to import")
        return
    if not first.strip():
        raise InputFileError(str(p), f"line {src.header_line} is empty: expected a header row",
                             code="empty_file")
    if b"\x00" in first:
        raise InputFileError(str(p), f"the header (line {src.header_line}) contains a NUL byte: "
                             "the file is binary, or text in another encoding", code="bad_header")
    text = _decode_header(src, first, src.decoder)
    names = _split_header(p, text, src.delimiter)
    if len(names) == 1:
        _check_delimiter(p, text, src.delimiter, from_sep_line=bool(sep))
    src.trailing_empty = _drop_trailing_empty(names)
    _check_header_names(p, names)
    src.columns = distinct_names(names, src.notices)
    if not body.strip() and complete:  # every empty object of a CRM export looks like this
        src.notices.append("the file has a header but no data rows: 0 rows imported")


def _read_head(src: SourceFile) -> tuple[bytes, bool]:
    """The first 64 KiB of the text without a UTF-8 byte-order mark (noted when skipped), and
    whether that is the whole file."""
    try:
        with src.source.open() as fh:
            head = fh.read(1 << 16)
            complete = len(head) < (1 << 16) or not fh.read(1)
    except READ_ERRORS as exc:
        raise src.source.read_error(exc) from exc
    if head.startswith(b"\xef\xbb\xbf"):
        src.notices.append("UTF-8 byte-order mark at the start of the file was skipped")
        head = head[3:]
    return head, complete


def _split_header(p: Path, text: str, delimiter: str) -> list[str]:
    try:
        names = next(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as exc:
        raise InputFileError(str(p), f"cannot read the header: {exc}",
                             code="bad_header") from exc
    return [n.strip() for n in names]


def _decode_header(src: SourceFile, first: bytes, decoder: ValueDecoder) -> str:
    """The header line as text; bytes the encoding does not define are replaced (and said:
    a column named with U+FFFD will not match what the adapter expects)."""
    text, repair = decoder.decode(first)
    if repair == "replaced":
        src.notices.append(f"the header (line {src.header_line}) has bytes that are not valid "
                           f"{decoder.encoding}; they were replaced by U+FFFD (�): pass the "
                           "file's encoding with --encoding")
    return text


def _check_delimiter(p: Path, text: str, delimiter: str, from_sep_line: bool = False) -> None:
    """A one-column header that contains another delimiter: the wrong ``sep`` was given."""
    guess = _guess_delimiter(text, delimiter)
    if not guess:
        return
    looks = (f"the header has one column but contains {text.count(guess)} "
             f"{DELIMITER_NAMES[guess]}s: the file looks {DELIMITER_NAMES[guess]}-separated, "
             f"not {DELIMITER_NAMES.get(delimiter, repr(delimiter))}-separated")
    if from_sep_line:
        raise InputFileError(str(p), f"{looks}, although its first line says 'sep={delimiter}'"
                             ": correct or remove that line", code="wrong_delimiter")
    raise InputFileError(
        str(p), f"{looks}; pass --sep '{guess}' (or sep in the mapping file)",
        code="wrong_delimiter",
    )


def _drop_trailing_empty(names: list[str]) -> int:
    """Remove the empty names at the end of ``names`` (in place); how many there were."""
    trailing = 0
    while names and names[-1] == "":
        names.pop()  # a trailing delimiter on every line (common in Excel exports)
        trailing += 1
    return trailing


def _check_header_names(p: Path, names: list[str]) -> None:
    """Every column has a name."""
    empty = [i + 1 for i, n in enumerate(names) if n == ""]
    if empty:
        raise InputFileError(str(p), f"header column {empty[0]} has no name", code="bad_header")


def distinct_names(names: list[str], notices: list[str]) -> list[str]:
    """``names`` with each repeated label (compared without case) numbered from its second
    use on: ``Billing Contact``, ``Billing Contact (2)``; a notice says so. The first use
    keeps its name, so the adapters find the column they map where they found it before."""
    taken = {n.casefold() for n in names}
    seen: set[str] = set()
    out = []
    for name in names:
        key = name.casefold()
        if key not in seen:
            seen.add(key)
            out.append(name)
            continue
        n = 2
        while f"{name} ({n})".casefold() in taken:
            n += 1
        renamed = f"{name} ({n})"
        taken.add(renamed.casefold())
        seen.add(renamed.casefold())
        notices.append(f"the header repeats the column {name!r}: the later one is read as "
                       f"{renamed!r}")
        out.append(renamed)
    return out


def _guess_delimiter(text: str, current: str) -> str | None:
    best = max((d for d in CANDIDATE_DELIMITERS if d != current), key=text.count)
    return best if text.count(best) >= 1 else None
