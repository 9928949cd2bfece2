"""An input file as a stream of text bytes, whatever its packaging.

:func:`check_path` refuses what is not a readable file (missing, a dangling or looping symlink,
a folder, no permission) with one specific :class:`InputFileError` each.
:func:`sniff` looks at the first bytes: gzip, bzip2 and xz files are decompressed on the fly;
a UTF-16/UTF-32 file (told by its byte-order mark, or by ``--encoding utf-16…``) is
transcoded to UTF-8, so every reader downstream sees bytes in an ASCII-compatible encoding;
archives and spreadsheets are refused with what to do instead. Without ``--encoding`` the
encoding is detected on a sample of the file (:mod:`revloop.ingest.textdecode`).
"""

from __future__ import annotations

import bz2
import codecs
import errno
import gzip
import io
import lzma
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

from revloop.errors import ConfigError, InputFileError
from revloop.ingest.textdecode import UTF8, ValueDecoder, ascii_compatible, codec_name, detect

COMPRESSION_SUFFIXES = (".gz", ".gzip", ".bz2", ".xz")
_COMPRESSED = ((b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"))
_REFUSED = (
    (b"PK\x03\x04", "this is a zip archive (or an Excel .xlsx workbook), not a text file: "
                    "export the sheet as CSV, or unzip the file first"),
    (b"\xd0\xcf\x11\xe0", "this is an Excel .xls workbook (or another Office document), not a "
                          "text file: export the sheet as CSV"),
    (b"\x28\xb5\x2f\xfd", "the file is zstd-compressed: decompress it first (zstd -d)"),
)
# Longest first: the UTF-32 little-endian mark starts with the UTF-16 one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_WIDE = {"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"}
# Errors a decompressor raises on a damaged or truncated stream.
READ_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError, UnicodeError)
_CHUNK = 1 << 20
# The sample the encoding is detected on: bounded, however large the file (GBs happen).
SAMPLE_HEAD = 4 << 20
SAMPLE_TAIL = 1 << 20
LINE_BREAK = re.compile(rb"\r\n|\n|\r")  # LF, CRLF or CR only (old Mac)


def check_path(p: Path) -> None:
    """Raise the specific :class:`InputFileError` when ``p`` is not a readable file (an empty
    one is fine: it holds no rows)."""
    try:
        p.stat()
    except OSError as exc:
        raise _path_error(p, exc) from exc
    if p.is_dir():
        raise InputFileError(str(p), "is a folder, expected a file", code="not_a_file")
    if not os.access(p, os.R_OK):
        raise InputFileError(str(p), "permission denied: the file cannot be read",
                             code="permission_denied")


def _path_error(p: Path, exc: OSError) -> InputFileError:
    if exc.errno == errno.ELOOP:
        return InputFileError(str(p), "symlink loop: the link points (through other links) "
                              "back to itself", code="symlink_loop")
    if exc.errno == errno.ENOENT and p.is_symlink():
        return InputFileError(str(p), f"is a symbolic link to {os.readlink(p)}, which does "
                              "not exist", code="file_not_found")
    if exc.errno == errno.ENOENT:
        return InputFileError(str(p), "no such file", code="file_not_found")
    if exc.errno == errno.EACCES:
        return InputFileError(str(p), "permission denied: the file cannot be read",
                              code="permission_denied")
    return InputFileError(str(p), f"cannot open the file: {exc.strerror or exc}",
                          code="unreadable_file")


@dataclass(frozen=True)
class RawFile:
    """How to turn a file's bytes into text bytes: decompress, then transcode."""

    path: Path
    compression: str | None = None  # gzip, bzip2, xz
    wide: str | None = None  # UTF-16/32 codec the file is written in (transcoded to UTF-8)
    bom: int = 0  # bytes of a UTF-16/32 byte-order mark to skip
    notices: tuple[str, ...] = ()
    encoding: str = UTF8  # the file's encoding (asked for or detected; named in messages)
    detected: bool = False  # told from the bytes, not by --encoding

    @property
    def transcoded(self) -> bool:
        """Whether the stream is UTF-8 made from another encoding."""
        return self.wide is not None

    @property
    def decoder(self) -> ValueDecoder:
        """How the readers decode the values of the stream."""
        if self.transcoded:
            return ValueDecoder(UTF8)
        return ValueDecoder(self.encoding, lenient=self.detected and self.encoding != UTF8)

    def open(self) -> io.BufferedIOBase:
        """The decompressed, transcoded bytes (the caller closes the stream)."""
        stream = self._decompressed()
        if self.wide is None:
            return stream
        stream.read(self.bom)
        return io.BufferedReader(_Utf8Transcoder(stream, self.wide, self.path), _CHUNK)

    def _decompressed(self) -> io.BufferedIOBase:
        if self.compression == "gzip":
            return gzip.open(self.path, "rb")
        if self.compression == "bzip2":
            return bz2.open(self.path, "rb")
        if self.compression == "xz":
            return lzma.open(self.path, "rb")
        return open(self.path, "rb")

    def read_error(self, exc: BaseException) -> InputFileError:
        """One clear error for a stream that broke while being read."""
        if isinstance(exc, InputFileError):
            return exc
        if isinstance(exc, UnicodeDecodeError):
            return InputFileError(
                str(self.path), f"not valid {self.encoding} text (byte "
                f"0x{exc.object[exc.start]:02X}: {exc.reason}); pass the file's real encoding "
                "with --encoding",
                code="invalid_encoding")
        what = f"the {self.compression}-compressed file" if self.compression else "the file"
        return InputFileError(str(self.path), f"cannot read {what}: {exc}",
                              code="unreadable_file")


class _Utf8Transcoder(io.RawIOBase):
    """UTF-8 bytes of a stream written in a wide encoding, decoded strictly, chunk by chunk."""

    def __init__(self, source: io.BufferedIOBase, encoding: str, path: Path) -> None:
        super().__init__()
        self._source = source
        self._encoding = encoding
        self._path = path
        self._decoder = codecs.getincrementaldecoder(encoding)("strict")
        self._pending = b""
        self._pos = 0
        self._consumed = 0
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while self._pos >= len(self._pending) and not self._eof:
            chunk = self._source.read(_CHUNK)
            self._eof = not chunk
            try:
                text = self._decoder.decode(chunk, final=self._eof)
            except UnicodeDecodeError as exc:
                raise InputFileError(
                    str(self._path),
                    f"not valid {_label(self._encoding)} at byte {self._consumed + exc.start}: "
                    f"{exc.reason}", code="invalid_encoding",
                ) from exc
            self._consumed += len(chunk)
            self._pending, self._pos = text.encode("utf-8"), 0
        n = min(len(buffer), len(self._pending) - self._pos)
        buffer[:n] = self._pending[self._pos:self._pos + n]
        self._pos += n
        return n

    def close(self) -> None:
        self._source.close()
        super().close()


def _label(encoding: str) -> str:
    """``utf-16-le`` → ``UTF-16 (little-endian)``."""
    name = codecs.lookup(encoding).name
    base = name[:6].upper()
    order = {"le": " (little-endian)", "be": " (big-endian)"}.get(name[7:], "")
    return base + order


def _codec(encoding: str) -> str:
    try:
        return codec_name(encoding)
    except LookupError as exc:
        raise ConfigError(f"unknown encoding {encoding!r}; use a Python codec name such as "
                          "utf-8, cp1252, latin-1 or utf-16") from exc


def sniff(p: Path, encoding: str | None, binary: bool = False) -> RawFile:
    """How to read ``p``: its compression and, for text (``binary`` False), its encoding.

    ``encoding`` is the one asked for (``--encoding``; None: detected on a sample of the file);
    a UTF-16/32 byte-order mark overrides it. Raises :class:`InputFileError` for archives,
    spreadsheets, damaged compressed files and UTF-16 text without a byte-order mark.
    """
    with open(p, "rb") as fh:
        magic = fh.read(8)
    for mark, reason in _REFUSED:
        if magic.startswith(mark):
            raise InputFileError(str(p), reason, code="unsupported_format")
    compression = next((name for mark, name in _COMPRESSED if magic.startswith(mark)), None)
    raw = RawFile(p, compression)
    if binary:
        return raw
    try:
        with raw.open() as stream:
            head = stream.read(4096)
    except READ_ERRORS as exc:
        raise raw.read_error(exc) from exc
    return _with_encoding(raw, head, _codec(encoding) if encoding else None)


def _with_encoding(raw: RawFile, head: bytes, codec: str | None) -> RawFile:
    notices = [f"{raw.compression}-compressed: decompressed while reading"] \
        if raw.compression else []
    for mark, wide in _BOMS:
        if head.startswith(mark):
            notices.append(f"{_label(wide)} byte-order mark: the file was read as {_label(wide)}")
            return RawFile(raw.path, raw.compression, wide, len(mark), tuple(notices), wide)
    if codec in _WIDE:
        return RawFile(raw.path, raw.compression, codec, 0, tuple(notices), codec)
    guess = _bomless_utf16(head)
    if guess:
        raise InputFileError(
            str(raw.path),
            f"the file looks {_label(guess)} without a byte-order mark (every other byte is "
            f"0): pass --encoding {guess}", code="wrong_encoding",
        )
    detected = codec is None
    if codec is None:
        codec = codec_name(detect(_sample(raw)))
        if codec != UTF8:
            notices.append(f"encoding detected: {codec} (pass --encoding to read it otherwise)")
    if not ascii_compatible(codec):  # e.g. UTF-7, EBCDIC: transcoded as a stream
        return RawFile(raw.path, raw.compression, codec, 0, tuple(notices), codec, detected)
    return RawFile(raw.path, raw.compression, None, 0, tuple(notices), codec, detected)


def _sample(raw: RawFile) -> bytes:
    """The first few MB of the text and, for a plain file, its last MB: enough for the
    encoding, bounded for files of any size (a compressed file's end is not read: it would
    mean decompressing all of it)."""
    try:
        whole = raw.compression is None and \
            raw.path.stat().st_size <= SAMPLE_HEAD + SAMPLE_TAIL
        with raw.open() as stream:
            head = stream.read(SAMPLE_HEAD + SAMPLE_TAIL if whole else SAMPLE_HEAD)
        if whole or raw.compression:
            return _whole_lines(head, not whole and len(head) == SAMPLE_HEAD, False)
        with open(raw.path, "rb") as fh:
            fh.seek(-SAMPLE_TAIL, os.SEEK_END)
            tail = fh.read()
    except READ_ERRORS as exc:
        raise raw.read_error(exc) from exc
    return _whole_lines(head, True, False) + b"\n" + _whole_lines(tail, False, True)


def _whole_lines(data: bytes, cut_end: bool, cut_start: bool) -> bytes:
    """``data`` without the partial lines a cut left (a cut may split a character)."""
    if cut_end:
        data = data[: max(data.rfind(b"\n"), 0)]
    if cut_start:
        data = data[data.find(b"\n") + 1:]
    return data


def _bomless_utf16(head: bytes) -> str | None:
    """``utf-16-le``/``-be`` when most of the first characters are ASCII with a zero byte
    beside them; None otherwise."""
    sample = head[: len(head) // 2 * 2]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def base_name(path: Path) -> Path:
    """``accounts.csv.gz`` → ``accounts.csv``: the name without a compression suffix."""
    if path.suffix.lower() in COMPRESSION_SUFFIXES:
        return path.with_suffix("")
    return path
