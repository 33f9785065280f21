"""Finding, decoding and reading the input files, with line numbers for every row.

A :class:`Source` is one table: a file on disk (optionally gzip-compressed) or one member of a
zip archive. Tables are read with every cell as text, so that the format readers decide what a
value means (``NA`` is Namibia in an ISO2 column, "missing" in a quantity column) and can quote
the value exactly as written when it is wrong.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import re
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import IO, cast

import pandas as pd

from critmin.loader.errors import InputError

#: What the readers accept as ``paths``: one path or several (files, zip archives, folders).
PathsLike = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]

#: Name of the column that carries each row's 1-based line number in the file.
LINE = "__line__"

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz")
_CHUNK_ROWS = 500_000
_BLOCK = 1 << 20


@dataclass(frozen=True)
class Source:
    """One input table.

    Parameters
    ----------
    label : str
        How messages name it: the path as the user gave it, ``archive.zip/member.csv`` for a
        zip member.
    path : Path
        The file on disk (the archive, for a member).
    member : str, optional
        Name of the member inside the zip archive at ``path``.
    listed : bool
        True when the file was found by listing a folder rather than named by the user: files
        that are not inputs (metadata, dictionaries) are then skipped instead of refused.
    """

    label: str
    path: Path
    member: str | None = None
    listed: bool = False

    @property
    def name(self) -> str:
        """The file name without folders (of the member, for a zip member)."""
        return (self.member or self.path.name).replace("\\", "/").rsplit("/", 1)[-1]

    @contextmanager
    def open_binary(self) -> Iterator[IO[bytes]]:
        """Open the raw bytes (decompressing gzip; reading from the archive for a member).

        A compressed file that ends early or is damaged is an :class:`InputError` naming it,
        whenever the damage is found while reading.
        """
        try:
            with self._open() as fh:
                yield fh
        except (EOFError, zlib.error, gzip.BadGzipFile, zipfile.BadZipFile) as exc:
            raise InputError.single(
                self.label,
                None,
                None,
                None,
                f"is damaged or cut short ({exc}): download or copy it again",
            ) from None

    @contextmanager
    def _open(self) -> Iterator[IO[bytes]]:
        if self.member is not None:
            with zipfile.ZipFile(self.path) as archive, archive.open(self.member) as fh:
                yield fh
        elif self.path.name.lower().endswith(".gz"):
            with gzip.open(self.path, "rb") as fh:
                yield cast(IO[bytes], fh)
        else:
            with open(self.path, "rb") as fh:
                yield fh

    def head(self, size: int = 65_536) -> bytes:
        """The first ``size`` bytes."""
        with self.open_binary() as fh:
            return fh.read(size)

    def read_bytes(self) -> bytes:
        """All bytes (used on small files and on error paths only)."""
        with self.open_binary() as fh:
            return fh.read()


def bundled(name: str) -> Source:
    """A data table shipped in ``critmin/loader/data``."""
    path = Path(str(files("critmin.loader").joinpath("data", name)))
    return Source(f"critmin/loader/data/{name}", path)


def expand_sources(paths: PathsLike) -> list[Source]:
    """Turn what the user passed into tables: files as given, zip members, folder contents.

    Raises
    ------
    InputError
        When a path does not exist, a zip archive is damaged or nothing readable was given.
    """
    given = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    sources: list[Source] = []
    for item in given:
        path = Path(item)
        if path.is_dir():
            for child in sorted(path.iterdir()):
                if not child.name.startswith(".") and _is_table_or_zip(child.name):
                    sources += _expand_file(child, str(child), listed=True)
        elif path.exists():
            sources += _expand_file(path, str(item), listed=False)
        else:
            raise InputError.single(str(item), None, None, None, "file not found")
    if not sources:
        shown = ", ".join(str(p) for p in given) or "nothing"
        raise InputError.single(
            None, None, None, None, f"no input tables (CSV or zip) found in {shown}"
        )
    return sources


def _is_table_or_zip(name: str) -> bool:
    lower = name.lower()
    return lower.endswith(".zip") or lower.endswith(TABLE_SUFFIXES)


def _expand_file(path: Path, label: str, *, listed: bool) -> list[Source]:
    if not path.name.lower().endswith(".zip"):
        return [Source(label, path, listed=listed)]
    try:
        with zipfile.ZipFile(path) as archive:
            names = sorted(
                info.filename
                for info in archive.infolist()
                if not info.is_dir()
                and not info.filename.startswith("__MACOSX/")
                and info.filename.lower().endswith(TABLE_SUFFIXES)
            )
    except zipfile.BadZipFile as exc:
        raise InputError.single(
            label, None, None, None, f"is not a readable zip archive ({exc})"
        ) from exc
    if not names:
        raise InputError.single(label, None, None, None, "zip archive holds no CSV files")
    # Members of a user-named archive are "listed": the archive, not each member, was named.
    return [Source(f"{label}/{name}", path, member=name, listed=True) for name in names]


@dataclass(frozen=True)
class Decoding:
    """How to decode a file: its encoding, and whether it has quoted fields at all."""

    encoding: str
    quoted: bool


def check_encoding(source: Source, encodings: Sequence[str]) -> Decoding:
    """Find the first of ``encodings`` that decodes the whole file.

    The file is streamed, so this costs one pass and little memory even for large BACI files.
    The same pass notes whether the file has any double quote: without one no field can span
    lines, and :func:`read_table` can skip the line-number bookkeeping.

    Raises
    ------
    InputError
        Naming the line and byte offset of the first byte that is not valid in the first
        (expected) encoding, with the encoding the file appears to be in.
    """
    for encoding in encodings:
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        quoted = False
        try:
            with source.open_binary() as fh:
                while block := fh.read(_BLOCK):
                    decoder.decode(block)
                    quoted = quoted or b'"' in block
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return Decoding(encoding, quoted)
    raise _encoding_error(source, encodings[0])


def _encoding_error(source: Source, expected: str) -> InputError:
    data = source.read_bytes()
    try:
        data.decode(expected)
    except UnicodeDecodeError as exc:
        offset = exc.start
    else:  # pragma: no cover - only reached if the file changed between the two reads
        offset = 0
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    end = data.find(b"\n", offset)
    text = data[start : end if end >= 0 else len(data)].rstrip(b"\r")
    guess = _guess_encoding(data)
    shown = text.decode(guess or "latin-1", "replace")[:80]
    name = "UTF-8" if expected.replace("-sig", "").lower() in {"utf-8", "utf8"} else expected
    hint = (
        f"the file looks {guess}-encoded: re-save it as UTF-8 "
        f"(for example `iconv -f {guess} -t utf-8 IN > OUT`)"
        if guess
        else "re-save it as UTF-8"
    )
    reason = f"is not valid {name} (byte 0x{data[offset]:02x} at byte offset {offset}); {hint}"
    return InputError.single(source.label, line, None, shown, reason)


def _guess_encoding(data: bytes) -> str | None:
    for candidate in ("cp1252", "latin-1"):
        try:
            data.decode(candidate)
        except UnicodeDecodeError:
            continue
        return candidate
    return None  # pragma: no cover - latin-1 decodes every byte


@dataclass(frozen=True)
class Header:
    """The first line of a table: its column names and delimiter."""

    columns: tuple[str, ...]
    delimiter: str

    def has(self, *names: str) -> bool:
        """True if every name is a column (compared case-insensitively, spaces ignored)."""
        present = {key(c) for c in self.columns}
        return all(key(n) in present for n in names)


def key(column: str) -> str:
    """Comparison key of a column name: case and all whitespace ignored.

    >>> key(" PROD_EST_ 2024 ")
    'prod_est_2024'
    """
    return re.sub(r"\s+", "", column).casefold()


def read_header(source: Source) -> Header:
    """Read the header line (any encoding: only ASCII column names matter here).

    Raises
    ------
    InputError
        If the file is empty.
    """
    head = source.head()
    wide = _wide_encoding(head)
    if wide is not None:
        raise InputError.single(
            source.label,
            None,
            None,
            None,
            f"is {wide}-encoded; critmin reads UTF-8 (and cp1252 for USGS files): re-save it as "
            f"UTF-8 (for example `iconv -f {wide} -t UTF-8 IN > OUT`)",
        )
    text = head.decode("utf-8", "replace").lstrip("\ufeff")
    if not text.strip():
        raise InputError.single(source.label, None, None, None, "is empty (no header, no rows)")
    first = text.splitlines()[0]
    counts = {sep: first.count(sep) for sep in (",", "\t", ";")}
    delimiter = max(counts, key=lambda sep: (counts[sep], sep == ","))
    columns = next(csv.reader([first], delimiter=delimiter))
    return Header(tuple(c.strip() for c in columns), delimiter)


def _wide_encoding(head: bytes) -> str | None:
    """UTF-16 or UTF-32, told by the byte-order mark or by the NUL bytes of ASCII text."""
    for mark, name in (
        (codecs.BOM_UTF32_LE, "UTF-32"),
        (codecs.BOM_UTF32_BE, "UTF-32"),
        (codecs.BOM_UTF16_LE, "UTF-16"),
        (codecs.BOM_UTF16_BE, "UTF-16"),
    ):
        if head.startswith(mark):
            return name
    sample = head[:200]
    if len(sample) >= 8 and sample.count(0) >= len(sample) // 3:
        return "UTF-16"
    return None


def read_table(
    source: Source,
    header: Header,
    decoding: Decoding | str,
    *,
    chunk_rows: int = _CHUNK_ROWS,
) -> Iterator[pd.DataFrame]:
    """Read the table in chunks, every cell as ``str`` and a :data:`LINE` column added.

    Parameters
    ----------
    source, header
        The table and its header (for the delimiter).
    decoding : Decoding or str
        From :func:`check_encoding`, or just an encoding for files known to be clean.
    chunk_rows : int
        Rows per chunk.

    Raises
    ------
    InputError
        If a row has more fields than the header.
    """
    if isinstance(decoding, str):
        decoding = Decoding(decoding, quoted=True)
    quoted = decoding.quoted
    line_offset = 2  # the header is line 1
    with source.open_binary() as raw:
        text = io.TextIOWrapper(raw, encoding=decoding.encoding, newline="")
        try:
            with pd.read_csv(
                text,
                sep=header.delimiter,
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,  # keeps one row per physical line, for line numbers
                index_col=False,
                chunksize=chunk_rows,
                quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE,
            ) as reader:
                for chunk in _chunks(reader):
                    chunk.columns = [c.strip().lstrip("\ufeff") for c in chunk.columns]
                    chunk = chunk.fillna("")  # short rows leave NaN in their missing fields
                    lines = pd.Series(range(len(chunk)), index=chunk.index) + line_offset
                    if quoted:
                        breaks = sum(
                            (chunk[c].str.count("\n") for c in chunk.columns),
                            start=pd.Series(0, index=chunk.index),
                        )
                        lines += breaks.cumsum() - breaks
                        line_offset += int(breaks.sum())
                    line_offset += len(chunk)
                    chunk[LINE] = lines.astype("int64")
                    yield chunk
        except pd.errors.ParserError as exc:
            found = re.search(r"line (\d+)", str(exc))
            row = int(found.group(1)) if found else None
            raise InputError.single(
                source.label,
                row,
                None,
                None,
                f"cannot be parsed as a table: {str(exc).strip()}; check the delimiter and the "
                "quoting",
            ) from exc
        except pd.errors.ParserWarning as exc:
            row, fields = _first_long_row(source, header, decoding)
            raise InputError.single(
                source.label,
                row,
                None,
                None,
                f"has {fields} fields where the header names {len(header.columns)}: a row with "
                "an extra field would lose data; check the delimiter and the quoting",
            ) from exc
        except pd.errors.EmptyDataError as exc:
            raise InputError.single(source.label, None, None, None, "is empty") from exc


def _chunks(reader: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """The reader's chunks, with pandas' warning that a first row longer than the header
    would be cut (``index_col=False``) raised as an error instead of printed."""
    chunks = iter(reader)
    while True:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            chunk = next(chunks, None)
        if chunk is None:
            return
        yield chunk


def _first_long_row(source: Source, header: Header, decoding: Decoding) -> tuple[int | None, int]:
    """The line number and field count of the first row with more fields than the header."""
    with source.open_binary() as raw:
        text = io.TextIOWrapper(raw, encoding=decoding.encoding, newline="")
        rows = csv.reader(
            text,
            delimiter=header.delimiter,
            quoting=csv.QUOTE_MINIMAL if decoding.quoted else csv.QUOTE_NONE,
        )
        next(rows, None)
        for row in rows:
            if len(row) > len(header.columns):
                return rows.line_num, len(row)
    return None, len(header.columns) + 1


def drop_blank_rows(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Drop rows whose cells (of ``columns``, default all) are empty.

    Blank lines and the ``,,,,`` padding rows USGS files end with are not data.
    """
    cells = frame[list(columns)] if columns is not None else frame.drop(columns=[LINE])
    return frame.loc[~(cells == "").all(axis=1)]


def read_whole(
    source: Source, header: Header | None = None, encodings: Sequence[str] = ("utf-8-sig",)
) -> pd.DataFrame:
    """Read a small table at once (see :func:`read_table`), blank rows dropped."""
    header = header or read_header(source)
    decoding = check_encoding(source, encodings)
    frame = pd.concat(list(read_table(source, header, decoding)), ignore_index=True)
    return drop_blank_rows(frame).reset_index(drop=True)


def column_lookup(columns: Iterable[str]) -> dict[str, str]:
    """Map :func:`key` of each column name to the name as written in the file."""
    return {key(c): c for c in columns}
