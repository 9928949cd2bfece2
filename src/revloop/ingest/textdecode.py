"""Which text encoding a file is in, and decoding its values without losing a row.

Real exports mix encodings: a Salesforce Data Export in Windows-1252 carries a few values
written in UTF-8 (``Ã©`` when read as cp1252), and a UTF-8 file carries a few stray cp1252
bytes. :func:`detect` names the encoding of a sample of the file with ``charset-normalizer``;
:class:`ValueDecoder` then decodes every value so that no row is lost: bytes the encoding does
not define become U+FFFD, and :class:`Repairs` records which rows that happened to (the import
result names them, the rows are stored).
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from dataclasses import dataclass, field

import charset_normalizer
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

UTF8 = "utf-8"
# Where charset-normalizer finds several code pages equally likely (French text reads the same
# in cp1250 and cp1252 for most letters), the one Western CRMs and Excel write wins.
_PREFERRED = "cp1252"
# What CRMs and spreadsheets write when not UTF-8: the Windows code pages and the common East
# Asian ones (DOS and Mac code pages, which charset-normalizer otherwise proposes for a few
# accented Western names, are left to --encoding).
CANDIDATES = ("cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257",
              "cp1258", "cp932", "gb18030", "big5", "euc_kr", "koi8_r")
_SLICES = 7  # charset-normalizer is asked about this many slices of the values (a vote)
# A value: the bytes between CSV/JSON punctuation and control characters, with a non-ASCII byte.
_NON_ASCII_VALUE = re.compile(rb'[^\x00-\x1f",;|{}:\[\]]*[\x80-\xff][^\x00-\x1f",;|{}:\[\]]*')
# The bytes a CSV parser splits on must mean the same in the encoding for values to be decoded
# one by one after parsing; other encodings are transcoded to UTF-8 as a stream.
_ASCII_PROBE = bytes(range(0x20, 0x7F)) + b"\t\r\n"
_REPAIRED_LINES_KEPT = 10


def codec_name(encoding: str) -> str:
    """Python's canonical spelling (``latin-1`` → ``iso8859-1``, ``utf_8`` → ``utf-8``)."""
    return codecs.lookup(encoding).name


def ascii_compatible(encoding: str) -> bool:
    """Whether printable ASCII, tabs and line breaks are the same bytes in ``encoding``."""
    try:
        return _ASCII_PROBE.decode(encoding) == _ASCII_PROBE.decode("ascii")
    except (UnicodeDecodeError, LookupError):
        return False


def detect(sample: bytes) -> str:
    """The encoding of ``sample`` (bytes from the start and the end of a file).

    Values valid in UTF-8 say nothing about a legacy code page, so only the values that are
    not valid UTF-8 are given to charset-normalizer. The file counts as UTF-8 when most of its
    non-ASCII values are valid UTF-8 (stray other bytes are then replaced when read).
    """
    values = _NON_ASCII_VALUE.findall(sample)
    foreign = [v for v in values if not _is_utf8(v)]
    if len(foreign) * 2 <= len(values):
        return UTF8
    return _legacy(list(dict.fromkeys(foreign)))  # each distinct value once: quicker


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode(UTF8)
    except UnicodeDecodeError:
        return False
    return True


def _legacy(values: list[bytes]) -> str:
    """The code page of ``values`` by charset-normalizer: asked about several slices of them
    and the most frequent answer taken, so that one corrupt value (a byte the true code page
    does not define) does not make it pick another code page that happens to define it."""
    slices = min(_SLICES, len(values))
    votes = Counter(_guess(b"\n".join(values[i::slices])) for i in range(slices))
    return max(votes, key=lambda name: (votes[name], name == _PREFERRED))


def _guess(values: bytes) -> str:
    """charset-normalizer's best candidate for ``values``; among equally good ones cp1252."""
    matches = charset_normalizer.from_bytes(values, cp_isolation=list(CANDIDATES))
    best = matches.best()
    if best is None:  # nothing decodes it cleanly: read it as cp1252, replacing the rest
        return _PREFERRED
    tied = [m for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    if any(_PREFERRED in m.could_be_from_charset for m in tied):
        return _PREFERRED
    return codec_name(best.encoding)


@dataclass(frozen=True)
class ValueDecoder:
    """How the values of one file are decoded.

    ``lenient`` (a detected legacy encoding): a non-ASCII value that is valid UTF-8 is read as
    UTF-8 — it is a stray UTF-8 value, since legacy text is almost never valid UTF-8 by chance.
    Bytes the encoding does not define become U+FFFD. Either repair flags the row.
    """

    encoding: str = UTF8
    lenient: bool = False

    def decode(self, raw: bytes) -> tuple[str, str | None]:
        """The text of ``raw`` and the repair made (``replaced``, ``utf8``) or None."""
        if self.lenient and _is_utf8(raw):
            return raw.decode(UTF8), "utf8"
        try:
            return raw.decode(self.encoding), None
        except UnicodeDecodeError:
            return raw.decode(self.encoding, errors="replace"), "replaced"

    def column(self, values: pa.Array) -> tuple[pa.Array, np.ndarray, np.ndarray]:
        """A binary column as text, and per row whether bytes were replaced and whether the
        value was read as UTF-8 inside a legacy file. ASCII values skip Python entirely."""
        n = len(values)
        replaced, utf8 = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        non_ascii = _non_ascii(values)
        if not non_ascii.any():
            return values.cast(pa.string()), replaced, utf8
        if self.encoding == UTF8:
            try:
                return values.cast(pa.string()), replaced, utf8
            except pa.ArrowInvalid:
                pass  # some value is not UTF-8: decode the non-ASCII ones one by one
        rows = np.flatnonzero(non_ascii)
        texts = []
        for row, raw in zip(rows, values.take(pa.array(rows)).to_pylist(), strict=True):
            text, repair = self.decode(raw)
            texts.append(text)
            replaced[row], utf8[row] = repair == "replaced", repair == "utf8"
        mask = pa.array(non_ascii)
        ascii_only = pc.if_else(mask, pa.scalar(None, values.type), values).cast(pa.string())
        return pc.replace_with_mask(ascii_only, mask, pa.array(texts, pa.string())), \
            replaced, utf8


def _non_ascii(values: pa.Array) -> np.ndarray:
    """Per value of a binary array, whether any of its bytes is 0x80 or above."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    _, offsets_buf, data_buf = values.buffers()
    if data_buf is None or len(values) == 0:
        return np.zeros(len(values), dtype=bool)
    offsets = np.frombuffer(offsets_buf, dtype=np.int32)[values.offset:
                                                         values.offset + len(values) + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8)[offsets[0]: offsets[-1]]
    high = data >= 0x80
    if not high.any():  # the usual case; no per-byte counts held for a 16 MB block
        return np.zeros(len(values), dtype=bool)
    # int32 like Arrow's offsets; one count per byte, only for a column that needs it
    counts = np.zeros(len(data) + 1, dtype=np.int32)
    np.cumsum(high, dtype=np.int32, out=counts[1:])
    rel = offsets - offsets[0]
    return np.asarray(counts[rel[1:]] - counts[rel[:-1]] > 0)


@dataclass
class Repairs:
    """Rows of one file whose text had to be repaired while decoding (kept, and flagged)."""

    rows: int = 0
    first_lines: list[int] = field(default_factory=list)
    replaced: int = 0  # rows with bytes the encoding does not define (now U+FFFD)
    replaced_lines: list[int] = field(default_factory=list)
    utf8: int = 0  # rows written in UTF-8 inside a legacy-encoded file (read as UTF-8)
    utf8_lines: list[int] = field(default_factory=list)

    def add(self, replaced: np.ndarray, utf8: np.ndarray, lines: np.ndarray) -> None:
        """Record the rows of a batch (masks over its rows, and their line numbers)."""
        either = replaced | utf8
        if not either.any():
            return
        self.rows += int(either.sum())
        self.replaced += int(replaced.sum())
        self.utf8 += int(utf8.sum())
        for mask, kept in ((either, self.first_lines), (replaced, self.replaced_lines),
                           (utf8, self.utf8_lines)):
            room = _REPAIRED_LINES_KEPT - len(kept)
            kept.extend(int(x) for x in lines[mask][:max(room, 0)])

    def add_line(self, repair: str | None, line: int) -> None:
        """Record one line (JSON lines are decoded line by line)."""
        if repair is not None:
            self.add(np.array([repair == "replaced"]), np.array([repair == "utf8"]),
                     np.array([line]))

    def notices(self, encoding: str) -> list[str]:
        """What was repaired, where, and which ``--encoding`` reads the file differently."""
        out = []
        if self.replaced:
            out.append(
                f"{self.replaced:,} row{_s(self.replaced)} had bytes that are not valid "
                f"{encoding}; they were replaced by U+FFFD (�) and the rows kept (flagged; "
                f"{_lines(self.replaced_lines, self.replaced)}). If the file is in another "
                f"encoding, pass it with --encoding (e.g. --encoding {_other(encoding)})")
        if self.utf8:
            out.append(
                f"{self.utf8:,} row{_s(self.utf8)} of this {encoding} file "
                f"{'is' if self.utf8 == 1 else 'are'} written in UTF-8 and were read as UTF-8 "
                f"(flagged; {_lines(self.utf8_lines, self.utf8)}); pass --encoding "
                f"{encoding} to read every byte as {encoding}")
        return out


def _lines(lines: list[int], total: int) -> str:
    more = ", …" if total > len(lines) else ""
    return f"line{_s(len(lines))} {', '.join(str(x) for x in lines)}{more}"


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _other(encoding: str) -> str:
    return _PREFERRED if encoding == UTF8 else UTF8
