"""Read `{"section": [item, item, ...], ...}` one item at a time.

An import file can be large; holding it whole would cost ten times its size in memory. This
reader walks the top level by hand and hands each item to the C JSON decoder
(`raw_decode`), so memory stays at one buffer plus one item, at the decoder's full speed.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import BinaryIO

CHUNK = 1 << 20
_WHITESPACE = " \t\n\r"


class JSONShapeError(Exception):
    """The file is not JSON, or not of the expected shape; `path` says where."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


class _Buffer:
    def __init__(self, fileobj: BinaryIO) -> None:
        self.file = fileobj
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.text = ""
        self.pos = 0
        self.line = 1  # line number at self.pos
        self.eof = False

    def more(self) -> bool:
        if self.eof:
            return False
        chunk = self.file.read(CHUNK)
        try:
            decoded = self.decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            raise JSONShapeError(
                "", f"line {self.line}: the file is not UTF-8 ({exc.reason})"
            ) from exc
        if not chunk:
            self.eof = True
        self.line += self.text.count("\n", 0, self.pos)
        self.text = self.text[self.pos :] + decoded
        self.pos = 0
        return bool(chunk)

    def peek(self) -> str:
        """The next non-space character ('' at the end of the file)."""
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in _WHITESPACE:
                self.pos += 1
            if self.pos < len(self.text):
                return self.text[self.pos]
            if not self.more():
                return ""

    def expect(self, chars: str, path: str, what: str) -> str:
        ch = self.peek()
        if ch == "" or ch not in chars:
            found = "the end of the file (the JSON is truncated)" if ch == "" else repr(ch)
            raise JSONShapeError(path, f"line {self.line_at()}: expected {what}, found {found}")
        self.pos += 1
        return ch

    def line_at(self, pos: int | None = None) -> int:
        return self.line + self.text.count("\n", 0, self.pos if pos is None else pos)

    def value(self, decoder: json.JSONDecoder, path: str) -> object:
        """Decode one JSON value, reading more of the file while the value runs past the buffer."""
        self.peek()
        while True:
            try:
                value, end = decoder.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                if not self.eof:
                    self.more()
                    continue
                truncated = exc.pos >= len(self.text) - 1 or "Unterminated" in exc.msg
                detail = "the JSON is truncated" if truncated else exc.msg
                raise JSONShapeError(path, f"line {self.line_at(exc.pos)}: {detail}") from exc
            if end == len(self.text) and not self.eof:
                self.more()  # a number cut by the buffer's end may go on
                continue
            self.pos = end
            return value


def read_sections(fileobj: BinaryIO, sections: set[str]) -> Iterator[tuple[str, int, object]]:
    """Yield (section, index, item) for every item of every known top-level array."""
    buf = _Buffer(fileobj)
    decoder = json.JSONDecoder(parse_float=Decimal)
    if buf.peek() == "":
        raise JSONShapeError("", "the file is empty")
    buf.expect("{", "", "a JSON object at the top level")
    seen: set[str] = set()
    if buf.peek() == "}":
        buf.pos += 1
    else:
        while True:
            key = buf.value(decoder, "")
            if not isinstance(key, str):
                raise JSONShapeError("", f"line {buf.line_at()}: expected a key in double quotes")
            if key not in sections:
                known = ", ".join(sorted(sections))
                raise JSONShapeError(key, f"unknown section (known sections: {known})")
            if key in seen:
                raise JSONShapeError(key, "this section appears twice")
            seen.add(key)
            buf.expect(":", key, "':'")
            buf.expect("[", key, "an array")
            index = 0
            if buf.peek() == "]":
                buf.pos += 1
            else:
                while True:
                    yield key, index, buf.value(decoder, f"{key}[{index}]")
                    if buf.expect(",]", f"{key}[{index}]", "',' or ']'") == "]":
                        break
                    index += 1
            if buf.expect(",}", key, "',' or '}'") == "}":
                break
    if buf.peek() != "":
        raise JSONShapeError("", f"line {buf.line_at()}: unexpected data after the JSON object")
