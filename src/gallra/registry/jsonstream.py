"""Read `{"section": [item, item, ...], ...}` one item at a time, strictly.

An import file can be large; holding it whole would cost ten times its size in memory. This
reader walks the top level by hand and hands each item to the C JSON decoder
(`raw_decode`), so memory stays at one buffer plus one item, at the decoder's full speed.

What Python's `json` accepts but no database should store is refused here, at the root, with
the item's path and the line (the same rules as gallra.strictjson, which reads whole
documents; here numbers with decimals stay exact, as Decimal): nesting deeper than
MAX_DEPTH, NaN and Infinity, number literals longer than NUMBER_CHARS or with an exponent
past MAX_EXPONENT (`1e999999999`), a NUL character anywhere (PostgreSQL cannot store one),
lone surrogates (`"\\ud800"`, not Unicode), a key twice in one object, and an item larger
than MAX_ITEM_BYTES. A refused value does not stop the reading: each is a problem of its own
(`refused`), so that the file's author sees them all at once.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import BinaryIO

CHUNK = 1 << 20
MAX_DEPTH = 16  # a customer holds arrays of records that hold arrays of strings: depth 4
MAX_ITEM_BYTES = 64 << 20  # one customer with everything it holds, as text
NUMBER_CHARS = 40  # a 64-bit integer has 19 digits; an amount far fewer
MAX_EXPONENT = 100  # of a number with decimals (1e999999999 would overflow any arithmetic)
_WHITESPACE = " \t\n\r"
# Only these escapes make a NUL or a surrogate: raw ones cannot pass the decoder (a raw
# control character) or the UTF-8 decoding of the file (a surrogate's bytes).
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89abcdefABCDEF])")


class JSONShapeError(Exception):
    """The file is not JSON, or not of the expected shape; `path` says where."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


@dataclass(frozen=True)
class Refused:
    """A value the decoder will not hand on: left in the item, found by `refused`."""

    message: str


def _decoder(found: list[Refused]) -> json.JSONDecoder:
    """The C decoder with hooks that leave a Refused where a value is refused (and note it in
    `found`, so that an item without one needs no second look)."""

    def refuse(message: str) -> Refused:
        found.append(Refused(message))
        return found[-1]

    def integer(text: str) -> int | Refused:
        if len(text) > NUMBER_CHARS:
            return refuse(f"a number of {len(text):,} digits (at most {NUMBER_CHARS})")
        return int(text)

    def decimal(text: str) -> Decimal | Refused:
        if len(text) > NUMBER_CHARS:
            return refuse(f"a number of {len(text):,} characters (at most {NUMBER_CHARS})")
        try:
            value = Decimal(text)
        except InvalidOperation:  # the decoder's grammar makes this unlikely
            return refuse(f"{text} is not a number")
        if abs(value.adjusted()) > MAX_EXPONENT:
            return refuse(f"{text} is out of range for a number")
        return value

    def constant(name: str) -> Refused:
        return refuse(f"{name} is not a number JSON allows")

    def mapping(pairs: list[tuple[str, object]]) -> dict:
        out = dict(pairs)
        if len(out) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    out[key] = refuse("this key appears more than once in the object")
                seen.add(key)
        return out

    return json.JSONDecoder(
        parse_int=integer, parse_float=decimal, parse_constant=constant, object_pairs_hook=mapping
    )


def refused(item: object, path: str, max_depth: int = MAX_DEPTH) -> list[tuple[str, str]]:
    """(path, message) for every value of `item` that is refused, in the order of the file;
    without recursion, so that depth costs nothing but a problem."""
    out: list[tuple[str, str]] = []
    stack: list[tuple[object, str, int]] = [(item, path, 0)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, str):
            problem = _text_problem(value)
            if problem:
                out.append((where, problem))
        elif isinstance(value, Refused):
            out.append((where, value.message))
        elif isinstance(value, dict | list):
            if depth >= max_depth:
                out.append((where, f"nested deeper than {max_depth} levels"))
                continue
            if isinstance(value, list):
                stack.extend(
                    (v, f"{where}[{i}]", depth + 1) for i, v in reversed(list(enumerate(value)))
                )
                continue
            for key, child in reversed(value.items()):
                problem = _text_problem(key)
                if problem:
                    out.append(
                        (f"{where}.{_shown_key(key)}", "the key" + problem.removeprefix("the text"))
                    )
                    continue
                stack.append((child, f"{where}.{key}", depth + 1))
    return out


def _deeper_than(value: object, max_depth: int) -> bool:
    """Whether containers nest deeper than max_depth, one level at a time (the containers
    alone: the cheap part of a walk; the value itself is one level)."""
    level = [value] if type(value) is dict or type(value) is list else []
    for _ in range(max_depth):
        inner = []
        for container in level:
            for child in container.values() if type(container) is dict else container:
                kind = type(child)
                if kind is dict or kind is list:
                    inner.append(child)
        if not inner:
            return False
        level = inner
    return True


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "the text holds a NUL character (\\u0000), which no database column stores"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "the text holds a lone surrogate (such as \\ud800), which is not Unicode"
    return None


def _shown_key(key: str) -> str:
    return json.dumps(key[:40]) + ("…" if len(key) > 40 else "")


class _Buffer:
    def __init__(self, fileobj: BinaryIO) -> None:
        self.file = fileobj
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.text = ""
        self.start = 0  # where the value just read begins
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
                    self._grow(path)
                    continue
                truncated = exc.pos >= len(self.text) - 1 or "Unterminated" in exc.msg
                detail = "the JSON is truncated" if truncated else exc.msg
                raise JSONShapeError(path, f"line {self.line_at(exc.pos)}: {detail}") from exc
            except RecursionError:
                # Far deeper than MAX_DEPTH (the decoder gives up near a thousand levels).
                where, line = _place(self.text, self.pos, len(self.text), path, MAX_DEPTH)
                raise JSONShapeError(
                    where, f"line {self.line_at(line)}: nested deeper than {MAX_DEPTH} levels"
                ) from None
            if end == len(self.text) and not self.eof:
                self._grow(path)  # a number cut by the buffer's end may go on
                continue
            self.start, self.pos = self.pos, end
            return value

    def _grow(self, path: str) -> None:
        if len(self.text) - self.pos > MAX_ITEM_BYTES:
            raise JSONShapeError(
                path,
                f"line {self.line_at()}: larger than {MAX_ITEM_BYTES >> 20} MiB; split it "
                "(a text this long is no record)",
            )
        self.more()

    def suspect(self, value: object) -> bool:
        """Whether the value just read may hold what `refused` looks for: a NUL or surrogate
        escape, or nesting deeper than MAX_DEPTH (looked for only when there are more
        brackets than that)."""
        text, start, end = self.text, self.start, self.pos
        if _SUSPECT_ESCAPE.search(text, start, end) is not None:
            return True
        if text.count("[", start, end) + text.count("{", start, end) <= MAX_DEPTH:
            return False
        return _deeper_than(value, MAX_DEPTH)

    def line_of(self, path: str, item_path: str) -> int:
        """The line of the value at `path` in the item just read (its last occurrence, for
        a key that appears twice)."""
        _, line = _place(self.text, self.start, self.pos, item_path, None, path)
        return self.line_at(line)


def read_sections(
    fileobj: BinaryIO, sections: set[str]
) -> Iterator[tuple[str, int, object, list[tuple[str, str]]]]:
    """Yield (section, index, item, refused) for every item of every known top-level array;
    `refused` is [(path, "line N: what is wrong"), ...], empty for an item that may be used."""
    buf = _Buffer(fileobj)
    found: list[Refused] = []
    decoder = _decoder(found)
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
                    path = f"{key}[{index}]"
                    found.clear()
                    item = buf.value(decoder, path)
                    problems = refused(item, path) if found or buf.suspect(item) else []
                    problems = [(p, f"line {buf.line_of(p, path)}: {m}") for p, m in problems]
                    yield key, index, item, problems
                    if buf.expect(",]", f"{key}[{index}]", "',' or ']'") == "]":
                        break
                    index += 1
            if buf.expect(",}", key, "',' or '}'") == "}":
                break
    if buf.peek() != "":
        raise JSONShapeError("", f"line {buf.line_at()}: unexpected data after the JSON object")


# Strings (with their escapes), brackets, commas, colons, and the other scalars.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},:]|[^\s\[\]{},:"]+')


def _place(
    text: str, start: int, end: int, path: str, max_depth: int | None, wanted: str | None = None
) -> tuple[str, int]:
    """Walk the tokens of text[start:end], the value at `path`, keeping the path: the path
    and position where it first goes deeper than max_depth, or of the last value at `wanted`."""
    frames: list[list] = []  # [bracket, the path of the container, key or index, key next]
    found = (path, start)
    current = path
    for token in _TOKEN.finditer(text, start, end):
        part, at = token.group(), token.start()
        if frames:
            bracket, base, step, _ = frames[-1]
            current = f"{base}[{step}]" if bracket == "[" else f"{base}.{step}"
        if part in ("[", "{"):
            if max_depth is not None and len(frames) >= max_depth:
                return current, at
            if wanted is not None and current == wanted:
                found = (current, at)
            frames.append([part, current, 0 if part == "[" else "", part == "{"])
        elif part in ("]", "}"):
            if frames:
                frames.pop()
            if not frames:
                break
        elif part == ",":
            if frames[-1][0] == "[":
                frames[-1][2] += 1
            else:
                frames[-1][3] = True
        elif part == ":":
            continue
        elif frames and frames[-1][3]:  # a key
            try:
                frames[-1][2] = json.loads(part)
            except ValueError:
                frames[-1][2] = "?"
            frames[-1][3] = False
            if wanted is not None and f"{frames[-1][1]}.{frames[-1][2]}" == wanted:
                found = (wanted, at)  # a key twice: the last one
        elif wanted is not None and current == wanted:
            found = (current, at)
    return found
