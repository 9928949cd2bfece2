"""The header of a delimited file: an Excel ``sep=`` line, the column names, and the first
problems a user can fix (an empty or binary header, the wrong delimiter, duplicate names)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

from revloop.errors import InputFileError
from revloop.ingest.rawfile import LINE_BREAK, READ_ERRORS

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
    if not first.strip():
        raise InputFileError(str(p), f"line {src.header_line} is empty: expected a header row",
                             code="empty_file")
    if b"\x00" in first:
        raise InputFileError(str(p), f"the header (line {src.header_line}) contains a NUL byte: "
                             "the file is binary, or text in another encoding", code="bad_header")
    text = _decode_header(p, first, src.text_encoding)
    names = _split_header(p, text, src.delimiter)
    if len(names) == 1:
        _check_delimiter(p, text, src.delimiter, from_sep_line=bool(sep))
    src.trailing_empty = _drop_trailing_empty(names)
    _check_header_names(p, names)
    if not body.strip() and complete:
        raise InputFileError(str(p), "the file has a header but no data rows",
                             code="empty_file")
    src.columns = names


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


def _decode_header(p: Path, first: bytes, encoding: str) -> str:
    try:
        return first.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InputFileError(
            str(p),
            f"the header is not valid {encoding} (byte 0x{first[exc.start]:02X}); "
            "re-save the file as UTF-8 or pass --encoding cp1252",
            code="invalid_utf8",
        ) from exc


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
    """Every column has a name, and no name is used twice."""
    empty = [i + 1 for i, n in enumerate(names) if n == ""]
    if empty:
        raise InputFileError(str(p), f"header column {empty[0]} has no name", code="bad_header")
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise InputFileError(str(p), f"the header names column {n!r} twice",
                                 code="duplicate_column")
        seen.add(n)


def _guess_delimiter(text: str, current: str) -> str | None:
    best = max((d for d in CANDIDATE_DELIMITERS if d != current), key=text.count)
    return best if text.count(best) >= 1 else None
