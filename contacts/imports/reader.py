"""Files to numbered records: CSV (comma, semicolon or tab; UTF-8 with or without a BOM)
or JSON Lines, streamed line by line so that memory does not grow with the file.

The bytes are decoded one physical line at a time, which is what lets a Latin-1 file be
refused with the line and the byte that give it away, rather than a codec's offset.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

# A cell larger than this is almost always a quote left open that swallowed the rest of
# the file; refusing it keeps memory bounded. A genuine 1 MB note still fits.
MAX_CELL_BYTES = 16 * 1024 * 1024
DELIMITERS = (",", ";", "\t")


class ImportFileError(Exception):
    """The file as a whole cannot be imported (unreadable, not UTF-8, no e-mail column):
    nothing from it is written."""


@dataclass(slots=True)
class Record:
    line: int  # the physical line where the record starts, counting from 1
    values: dict[str, Any]  # by column name; empty when the record could not be read
    original: list[str]  # what the rejects file repeats: the cells, or the JSON line
    error: str = ""  # why the record cannot be read at all


class SourceFile:
    """An opened import file. `columns` is the CSV header (empty for JSON Lines, whose
    keys vary per line); `records()` streams the rows after it, once."""

    def __init__(self, *, path: Path, format: str, stream: BinaryIO, size: int) -> None:
        self.path = path
        self.format = format  # "csv" or "jsonl"
        self.size = size
        self.columns: list[str] = []
        self._stream: BinaryIO | None = stream
        self._lines = self._decoded(stream)
        self._on_bytes: Callable[[int], object] | None = None
        self._delimiter = ","
        self._header_line = 0
        self._file_columns: list[str] = []
        # Told the bytes of each line read, besides on_bytes: a job's progress on a page.
        self.progress_hook: Callable[[int], object] | None = None

    @property
    def reject_columns(self) -> list[str]:
        if self.format != "csv":
            return ["record"]
        return self._file_columns or self.columns

    def rename(self, mapping: dict[str, str]) -> None:
        """Read the columns under other names, as a person mapped them in the browser; a
        column mapped to "" is left out. The rejects file keeps the file's own header."""
        self._file_columns = list(self.columns)
        self.columns = [mapping.get(column, column) for column in self.columns]

    def reopened(self) -> SourceFile:
        """The same file from its start, under the same column names: a second pass."""
        again = open_source(self.path)
        if self._file_columns:
            again._file_columns = list(self._file_columns)
            again.columns = list(self.columns)
        return again

    def records(self, *, on_bytes: Callable[[int], object] | None = None) -> Iterator[Record]:
        """on_bytes is told how many bytes each physical line had: a progress bar's feed."""
        self._on_bytes = on_bytes
        if self.format == "jsonl":
            return self._jsonl_records()
        return self._csv_records()

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def __enter__(self) -> SourceFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _decoded(self, stream: BinaryIO) -> Iterator[tuple[int, str]]:
        for number, raw in enumerate(stream, start=1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise ImportFileError(
                    f"line {number}: the file is not UTF-8 (byte 0x{raw[error.start]:02x}); save it as UTF-8"
                ) from None
            if self._on_bytes is not None:
                self._on_bytes(len(raw))
            if self.progress_hook is not None:
                self.progress_hook(len(raw))
            yield number, text

    def _open_csv(self) -> None:
        for number, text in self._lines:
            if text.strip():
                self._header_line = number
                break
        else:
            raise ImportFileError("the file is empty: expected a header row naming the columns, e.g. email")
        counts = {delimiter: text.count(delimiter) for delimiter in DELIMITERS}
        self._delimiter = max(DELIMITERS, key=lambda delimiter: counts[delimiter])
        header = next(csv.reader([text], delimiter=self._delimiter), [])
        self.columns = [cell.strip() for cell in header]
        seen: dict[str, int] = {}
        for position, name in enumerate(self.columns, start=1):
            if not name:
                continue
            if name.lower() in seen:
                raise ImportFileError(
                    f"line {self._header_line}: the header names column {name!r} twice "
                    f"(columns {seen[name.lower()]} and {position})"
                )
            seen[name.lower()] = position

    def _csv_records(self) -> Iterator[Record]:
        # csv.reader counts the lines it pulls; the header was read before it started.
        offset = self._header_line
        reader = csv.reader((text for _, text in self._lines), delimiter=self._delimiter)
        width = len(self.columns)
        named = [(index, name) for index, name in enumerate(self.columns) if name]
        consumed = 0
        while True:
            start = offset + consumed + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise ImportFileError(f"line {start}: {_csv_problem(error)}") from None
            consumed = reader.line_num
            if not cells or not any(cell.strip() for cell in cells):
                continue
            if len(cells) > width and any(cell.strip() for cell in cells[width:]):
                yield Record(
                    start,
                    {},
                    cells,
                    f"this row has {len(cells)} values but the header names {width} columns "
                    f"(a {self._delimiter!r} inside a value needs quotes around the value)",
                )
                continue
            if len(cells) < width:
                cells = cells + [""] * (width - len(cells))
            yield Record(start, {name: cells[index] for index, name in named}, cells)

    def _jsonl_records(self) -> Iterator[Record]:
        for number, text in self._lines:
            if not text.strip():
                continue
            original = [text.rstrip("\r\n")]
            try:
                data = json.loads(text)
            except json.JSONDecodeError as error:
                yield Record(number, {}, original, f"not valid JSON: {error.msg} (column {error.colno})")
                continue
            if not isinstance(data, dict):
                yield Record(number, {}, original, 'a line must be one JSON object, e.g. {"email": "..."}')
                continue
            yield Record(number, {str(key).strip(): value for key, value in data.items()}, original)


def _csv_problem(error: csv.Error) -> str:
    message = str(error)
    if "field larger than field limit" in message:
        return (
            f"a value is larger than {MAX_CELL_BYTES // (1024 * 1024)} MB; "
            'is a quote (") opened here and never closed?'
        )
    if "new-line character seen in unquoted field" in message:
        return "a line ends with a lone carriage return; save the file with ordinary line endings"
    return message


def open_source(path: Path | str) -> SourceFile:
    """Open the file and read its header. JSON Lines is chosen by the extension."""
    path = Path(path)
    fmt = "jsonl" if path.suffix.lower() in (".jsonl", ".ndjson") else "csv"
    try:
        stream = path.open("rb")
        size = path.stat().st_size
    except OSError as error:
        raise ImportFileError(f"cannot read {str(path)!r}: {error.strerror or error}") from None
    # The csv module's limit is process-wide; raising it is harmless for everyone else.
    csv.field_size_limit(max(csv.field_size_limit(), MAX_CELL_BYTES))
    source = SourceFile(path=path, format=fmt, stream=stream, size=size)
    try:
        if fmt == "csv":
            source._open_csv()
    except BaseException:
        source.close()
        raise
    return source
