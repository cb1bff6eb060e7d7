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

Neither does an item that cannot be read at all (a syntax error, an item too large or too
deep for the decoder): it is named by the path and line where it breaks, its end is found by
its brackets (`_Buffer.skip`, which keeps only what it has not yet looked at), and the
reading goes on with the next item. So is an unknown or repeated section, and a missing or
extra comma between items. Only a file that is not UTF-8, ends too soon, or is not one object
at the top stops the reading (JSONShapeError).
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import BinaryIO

from gallra.policy.sentences import Sentence, said

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
    """The file cannot be read on (not UTF-8, truncated, no object at the top); `path` and
    `line` say where."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path = path
        self.message = message
        self.line = line
        where = ": ".join(str(p) for p in (path, line and f"line {line}") if p)
        super().__init__(f"{where}: {message}" if where else message)


class _Unreadable(Exception):
    """One item cannot be decoded; the reading goes on after it."""

    def __init__(self, path: str, line: int, message: str) -> None:
        self.path, self.line, self.message = path, line, message


UNREADABLE = object()  # Item.value of an item whose JSON could not be decoded


@dataclass
class Item:
    """One item of a section, as read_sections hands it on.

    `problems` are (path, line or None, message): the values refused in it, or why it could
    not be read at all (then `value` is UNREADABLE and `refs` holds the refs found in its
    text, each with the keys that lead to it: ((), "C-1"), (("people",), "P-3")). An item
    with `index` None is no item but a problem of the section itself (unknown, twice, ...).
    """

    section: str
    index: int | None
    value: object
    problems: list[tuple[str, int | None, str]]
    line: int  # where the item begins
    refs: list[tuple[tuple[str, ...], str]] = field(default_factory=list)
    buffer: _Buffer | None = None

    @property
    def path(self) -> str:
        return self.section if self.index is None else f"{self.section}[{self.index}]"

    def lines(self, paths: Iterable[str]) -> dict[str, int]:
        """The line of each path in the item (of its nearest ancestor in the text, for a key
        that is missing); valid only until the next item is read."""
        wanted = set(paths)
        buf = self.buffer
        if buf is None or self.value is UNREADABLE or not wanted:
            return dict.fromkeys(wanted, self.line)
        steps: set[str] = set()
        for path in wanted:
            steps.update(_ancestors(path, self.path))
        found = _positions(buf.text, buf.start, buf.pos, self.path, steps)
        at = {
            path: next((found[a] for a in _ancestors(path, self.path) if a in found), buf.start)
            for path in wanted
        }
        lines = {pos: buf.line_at(pos) for pos in sorted(set(at.values()))}  # counted forwards
        return {path: lines[pos] for path, pos in at.items()}


_STEP = re.compile(r"\[\d+\]$|\.[^.\[]*$")


def _ancestors(path: str, root: str) -> list[str]:
    """The path and its ancestors up to `root`, deepest first."""
    out = [path]
    while len(path) > len(root):
        cut = _STEP.search(path)
        if cut is None:
            break
        path = path[: cut.start()]
        out.append(path)
    return out


@dataclass(frozen=True)
class Refused:
    """A value the decoder will not hand on: left in the item, found by `refused`."""

    message: str


def _decoder(found: list[Refused], strict: bool = True) -> json.JSONDecoder:
    """The C decoder with hooks that leave a Refused where a value is refused (and note it in
    `found`, so that an item without one needs no second look)."""

    def refuse(message: str) -> Refused:
        found.append(Refused(message))
        return found[-1]

    def integer(text: str) -> int | Refused:
        if len(text) > NUMBER_CHARS:
            return refuse(
                said(
                    "a number of %(n)s digits (at most %(max)s)",
                    n=f"{len(text):,}",
                    max=NUMBER_CHARS,
                )
            )
        return int(text)

    def decimal(text: str) -> Decimal | Refused:
        if len(text) > NUMBER_CHARS:
            return refuse(
                said(
                    "a number of %(n)s characters (at most %(max)s)",
                    n=f"{len(text):,}",
                    max=NUMBER_CHARS,
                )
            )
        try:
            value = Decimal(text)
        except InvalidOperation:  # the decoder's grammar makes this unlikely
            return refuse(said("%(text)s is not a number", text=text))
        if abs(value.adjusted()) > MAX_EXPONENT:
            return refuse(said("%(text)s is out of range for a number", text=text))
        return value

    def constant(name: str) -> Refused:
        return refuse(said("%(name)s is not a number JSON allows", name=name))

    def mapping(pairs: list[tuple[str, object]]) -> dict:
        out = dict(pairs)
        if len(out) != len(pairs):
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    out[key] = refuse(said("this key appears more than once in the object"))
                seen.add(key)
        return out

    return json.JSONDecoder(
        parse_int=integer,
        parse_float=decimal,
        parse_constant=constant,
        object_pairs_hook=mapping,
        strict=strict,
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
                out.append((where, _too_deep(max_depth)))
                continue
            if isinstance(value, list):
                stack.extend(
                    (v, f"{where}[{i}]", depth + 1) for i, v in reversed(list(enumerate(value)))
                )
                continue
            for key, child in reversed(value.items()):
                problem = _text_problem(key, "key")
                if problem:
                    out.append((key_path(where, key), problem))
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


def _too_deep(max_depth: int) -> Sentence:
    return said("nested deeper than %(n)s levels", n=max_depth)


def _text_problem(text: str, what: str = "text") -> Sentence | None:
    if "\x00" in text:
        if what == "key":
            return said("the key holds a NUL character (\\u0000), which no database column stores")
        return said("the text holds a NUL character (\\u0000), which no database column stores")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        if what == "key":
            return said("the key holds a lone surrogate (such as \\ud800), which is not Unicode")
        return said("the text holds a lone surrogate (such as \\ud800), which is not Unicode")
    return None


def _shown_key(key: str) -> str:
    return json.dumps(key[:40]) + ("…" if len(key) > 40 else "")


def key_path(where: str, key: str) -> str:
    """The path of a key in an object: `where.key`, or `where."key"` (quoted, cut short) for
    a key that holds what no text may (`refused` names it so too) or is very long."""
    if len(key) > 40 or _text_problem(key) is not None or _RAW_CONTROL.search(key):
        return f"{where}.{_shown_key(key)}"
    return f"{where}.{key}"


# How far from the end of the buffer a decoding error may be caused by the buffer's end (a
# literal, number or escape cut in two) rather than by the text: read more, and try again.
_CUT = 16
_VALUE_START = frozenset('{["-0123456789tfn')
# What the decoder says, in words for the file's author.
_DETAILS = {
    "Expecting value": "a value is missing, or is not JSON (text in double quotes; true, "
    "false and null in small letters)",
    "Expecting ',' delimiter": "a ',' is missing before this",
    "Expecting ':' delimiter": "a ':' is missing after the key",
    "Expecting property name enclosed in double quotes": "a key in double quotes is expected "
    "here (JSON allows no ',' before '}')",
    "Invalid control character at": "a line break or other control character inside a text; "
    "write it as \\n or \\t",
    "Invalid \\escape": "a backslash that starts no JSON escape; write \\\\ for a backslash",
    "Invalid \\uXXXX escape": "a \\u not followed by four hexadecimal digits",
}
_SHAPES = {"{": "an object", '"': "a string", "t": "true/false", "f": "true/false", "n": "null"}


def _broken(detail: str) -> Sentence:
    words = _DETAILS.get(detail)
    return said(
        "the JSON is broken here: %(what)s", what=said(words) if words is not None else detail
    )


class _Buffer:
    def __init__(self, fileobj: BinaryIO) -> None:
        self.file = fileobj
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.text = ""
        self.start = 0  # where the value just read begins
        self.pos = 0
        self.line = 1  # line number at text[0]
        self.eof = False
        self._mark = (0, 1)  # a position in text and its line: lines are counted on from it
        self.controls: list[tuple[str, int, Sentence]] = []  # see value()

    def more(self) -> bool:
        """Read on; what lies before `pos` is dropped."""
        if self.eof:
            return False
        chunk = self.file.read(CHUNK)
        try:
            decoded = self.decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            raise JSONShapeError(
                "", said("the file is not UTF-8 (%(reason)s)", reason=exc.reason), self.line_at()
            ) from exc
        if not chunk:
            self.eof = True
        self.line = self.line_at(self.pos)
        self.text = self.text[self.pos :] + decoded
        self.pos = 0
        self._mark = (0, self.line)
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

    def expect(self, chars: str, path: str, what: Sentence) -> str:
        ch = self.peek()
        if ch == "" or ch not in chars:
            if ch == "":
                raise self.truncated(path)
            raise JSONShapeError(
                path,
                said("expected %(what)s, found %(found)s", what=what, found=repr(ch)),
                self.line_at(),
            )
        self.pos += 1
        return ch

    def truncated(self, path: str, pos: int | None = None) -> JSONShapeError:
        return JSONShapeError(
            path, said("the file ends too soon: the JSON is truncated"), self.line_at(pos)
        )

    def line_at(self, pos: int | None = None) -> int:
        """The line of a position in the buffer, counted on from the last one asked for (so
        that asking item after item costs one pass over the text)."""
        pos = self.pos if pos is None else pos
        at, line = self._mark
        if pos < at:
            at, line = 0, self.line
        line += self.text.count("\n", at, pos)
        self._mark = (pos, line)
        return line

    def value(
        self, decoder: json.JSONDecoder, path: str, lax: json.JSONDecoder | None = None
    ) -> object:
        """Decode one JSON value, reading more of the file while the value runs past the buffer.
        Raises _Unreadable for a value that cannot be decoded (`pos` stays at its start).

        With `lax` (the same decoder, but taking control characters in strings), a value
        whose only fault is a raw line break or tab in a text is decoded all the same, so
        that the rest of it is checked too; each such text is in `self.controls`."""
        self.peek()
        self.controls = []
        while True:
            try:
                value, end = decoder.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                cut = exc.pos >= len(self.text) - _CUT or exc.msg.startswith("Unterminated")
                if not self.eof and cut:
                    self._grow(path)
                    continue
                if self.eof and (
                    exc.msg.startswith("Unterminated") or not self.text[exc.pos :].strip()
                ):
                    raise self.truncated(path, exc.pos) from exc
                if lax is not None and exc.msg.startswith("Invalid control character"):
                    try:
                        value, end = lax.raw_decode(self.text, self.pos)
                    except json.JSONDecodeError:
                        pass
                    else:
                        if end == len(self.text) and not self.eof:
                            self._grow(path)
                            continue
                        self.controls = self._controls(self.pos, end, path)
                        self.start, self.pos = self.pos, end
                        return value
                where = _path_at(self.text, self.pos, exc.pos, path)
                raise _Unreadable(where, self.line_at(exc.pos), _broken(exc.msg)) from exc
            except RecursionError:
                # Far deeper than MAX_DEPTH (the decoder gives up near a thousand levels).
                where, at = _place(self.text, self.pos, len(self.text), path, MAX_DEPTH)
                raise _Unreadable(where, self.line_at(at), _too_deep(MAX_DEPTH)) from None
            if end == len(self.text) and not self.eof:
                self._grow(path)  # a number cut by the buffer's end may go on
                continue
            self.start, self.pos = self.pos, end
            return value

    def _controls(self, start: int, end: int, path: str) -> list[tuple[str, int, Sentence]]:
        """Each text (or key) in text[start:end] that holds a raw control character."""
        found = [
            (where, at)
            for where, at, token in _walk(self.text, start, end, path)
            if token[0] == '"' and _RAW_CONTROL.search(token)
        ]
        message = _broken("Invalid control character at")
        return [(where, self.line_at(at), message) for where, at in found]

    def _grow(self, path: str) -> None:
        if len(self.text) - self.pos > MAX_ITEM_BYTES:
            raise _Unreadable(
                path,
                self.line_at(),
                said(
                    "larger than %(n)s MiB; split it (a text this long is no record)",
                    n=MAX_ITEM_BYTES >> 20,
                ),
            )
        self.more()

    def skip(self) -> list[tuple[tuple[str, ...], str]]:
        """Move past the value that begins at `pos` and could not be decoded, by its brackets
        (strings do not run past a line's end: JSON allows no line break in one); to just
        before the ',', ']' or '}' that ends it, or to the end of the file. Only what is not
        yet looked at is kept, so any length costs one buffer.

        Returns the refs found in it, with the keys that lead there (see Item.refs)."""
        opened: list[str] = []  # the open brackets, the first _SKIP_KEPT of them
        depth = 0
        frames: list[list] = []  # the first 3 levels: [bracket, key, key next, value next]
        refs: list[tuple[tuple[str, ...], str]] = []
        i = self.pos
        in_string = False  # in a string longer than _SHORT that runs past what was read
        while True:
            if in_string:
                rest = _STRING_REST.match(self.text, i)
                i = rest.end()
                if rest[1] is not None or i < len(self.text) - 1:  # closed, or broken
                    in_string = False
                    continue
                if self.eof:
                    self.pos = len(self.text)
                    return refs
                self.pos = i  # what was passed over is dropped
                self.more()
                i = self.pos
                continue
            match = _SKIP.search(self.text, i)
            if match is None:  # nothing more in what was read: drop it, read on
                if self.eof:
                    self.pos = len(self.text)
                    return refs
                self.pos = len(self.text)
                self.more()
                i = self.pos
                continue
            if match[0][0] == '"' and match[1] is None and match.end() >= len(self.text) - 1:
                # A string the buffer's end cuts: a short one (a ref) is read again whole,
                # a long one passed over to its end.
                if self.eof:
                    self.pos = len(self.text)
                    return refs
                if match.end() - match.start() <= _SHORT:
                    self.pos = match.start()
                    self.more()
                    i = self.pos
                else:
                    in_string, i = True, match.end()
                continue
            token, i = match[0], match.end()
            char = token[0]
            top = frames[-1] if frames and len(frames) == depth else None
            if char == '"':
                if top is not None and top[0] == "{":
                    text = _string(token) if match[1] is not None else None
                    if top[2]:
                        top[1], top[2] = text, False
                    elif top[3] and top[1] == "ref" and isinstance(text, str):
                        chain = _chain(frames)
                        if chain is not None:
                            refs.append((chain, text))
                    top[3] = False
            elif char in "[{":
                depth += 1
                if len(opened) < _SKIP_KEPT:
                    opened.append(char)
                if len(frames) == depth - 1 and depth <= 3:
                    frames.append([char, None, char == "{", False])
            elif char in "]}":
                if depth == 0:
                    self.pos = match.start()
                    return refs
                if depth <= len(opened):
                    wanted = "[" if char == "]" else "{"
                    if wanted not in opened:  # it closes what holds the value: the value ends
                        self.pos = match.start()
                        return refs
                    while opened.pop() != wanted:  # brackets left open inside are closed too
                        depth -= 1
                depth -= 1
                del frames[depth:]
                if depth == 0:
                    self.pos = i
                    return refs
            elif char == ",":
                if depth == 0:
                    self.pos = match.start()
                    return refs
                if top is not None and top[0] == "{":
                    top[2], top[3] = True, False
            elif char == ":" and top is not None and top[0] == "{":
                top[3] = True

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


# A string (to its closing quote, group 1; or to the line's end, where a JSON string cannot
# go on), a bracket, a comma or a colon; everything else is passed over.
_SKIP = re.compile(r'"(?:[^"\\\n]|\\.)*(")?|[\[\]{},:]')
_STRING_REST = re.compile(r'(?:[^"\\\n]|\\.)*(")?')
_SHORT = 4096  # a string skip() may hold whole while it reads on
_RAW_CONTROL = re.compile("[\x00-\x1f]")
_SKIP_KEPT = 1000  # brackets whose kind skip() remembers; deeper ones are only counted


def _string(token: str) -> str | None:
    try:
        text = json.loads(token)
    except ValueError:
        return None
    return text if isinstance(text, str) else None


def _chain(frames: list[list]) -> tuple[str, ...] | None:
    """The keys that lead to the object frames[-1] from the item: () for the item itself,
    ("people",) for an object in the item's array `people`; None for anything else."""
    if len(frames) == 1:
        return ()
    if len(frames) == 3 and frames[0][0] == "{" and frames[1][0] == "[":
        key = frames[0][1]
        return (key,) if isinstance(key, str) else None
    return None


def read_sections(fileobj: BinaryIO, sections: set[str]) -> Iterator[Item]:
    """Yield an Item for every item of every known top-level array, and one (index None) for
    each problem of the file's outline that the reading can go on after."""
    buf = _Buffer(fileobj)
    found: list[Refused] = []
    decoder, lax = _decoder(found), _decoder(found, strict=False)
    if buf.peek() == "":
        raise JSONShapeError("", said("the file is empty"))
    buf.expect("{", "", said("a JSON object at the top level"))
    seen: set[str] = set()
    if buf.peek() == "}":
        buf.pos += 1
    else:
        while True:
            line = buf.line_at()
            if buf.peek() != '"':
                buf.expect('"', "", said("a key in double quotes"))
            key = _outline(buf, decoder, "")
            buf.expect(":", key, said("a colon ':' after the key"))
            problem = None
            if key not in sections:
                known = ", ".join(sorted(sections))
                problem = said("unknown section (known sections: %(known)s)", known=known)
            else:
                if key in seen:  # its items are read all the same: their problems are listed
                    twice = said("this section appears twice")
                    yield Item(key, None, UNREADABLE, [(key, line, twice)], line)
                if buf.peek() != "[":
                    shape = _SHAPES.get(buf.peek(), "a number")
                    problem = said("must be an array, not %(type)s", type=said(shape))
            seen.add(key)
            if problem is not None:
                yield Item(key, None, UNREADABLE, [(key, line, problem)], line)
                buf.peek()
                buf.skip()
            else:
                buf.pos += 1  # the '['
                yield from _items(buf, (decoder, lax), found, key)
            if buf.expect(",}", key, said("',' or '}'")) == "}":
                break
    if buf.peek() != "":
        raise JSONShapeError("", said("unexpected data after the JSON object"), buf.line_at())


def _outline(buf: _Buffer, decoder: json.JSONDecoder, path: str) -> object:
    """A value of the file's outline (a section's name): one that cannot be read ends it."""
    try:
        return buf.value(decoder, path)
    except _Unreadable as exc:
        raise JSONShapeError(exc.path, exc.message, exc.line) from None


def _items(
    buf: _Buffer,
    decoders: tuple[json.JSONDecoder, json.JSONDecoder],
    found: list[Refused],
    section: str,
) -> Iterator[Item]:
    """The items of one section, from after its '[' to after its ']'."""
    if buf.peek() == "]":
        buf.pos += 1
        return
    index = 0
    while True:
        path = f"{section}[{index}]"
        found.clear()
        buf.peek()
        line = buf.line_at()
        try:
            item = buf.value(decoders[0], path, lax=decoders[1])
        except _Unreadable as exc:
            refs = buf.skip()
            yield Item(section, index, UNREADABLE, [(exc.path, exc.line, exc.message)], line, refs)
        else:
            problems = refused(item, path) if found or buf.suspect(item) else []
            problems = [*buf.controls, *((p, None, m) for p, m in problems)]
            yield Item(section, index, item, problems, line, buffer=buf)
        char = buf.peek()
        if char == ",":
            buf.pos += 1
            if buf.peek() == "]":
                message = said("a ',' after the last item: JSON allows none")
                yield Item(section, None, UNREADABLE, [(path, buf.line_at(), message)], line)
                buf.pos += 1
                return
        elif char == "]":
            buf.pos += 1
            return
        elif char in _VALUE_START or char == "":
            if char == "":
                raise buf.truncated(path)
            message = said("a ',' is missing before this item")
            yield Item(
                section,
                None,
                UNREADABLE,
                [(f"{section}[{index + 1}]", buf.line_at(), message)],
                line,
            )
        else:
            buf.expect(",]", path, said("',' or ']'"))
        index += 1


# Strings (with their escapes), brackets, commas, colons, and the other scalars.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},:]|[^\s\[\]{},:"]+')


def _walk(text: str, start: int, end: int, root: str) -> Iterator[tuple[str, int, str]]:
    """(path, position, token) of every value and key in text[start:end], where the value at
    `root` begins (a key is named by the path of its value)."""
    frames: list[list] = []  # [bracket, its path, the key or index now, whether a key is next]
    for token in _TOKEN.finditer(text, start, end):
        part, at = token.group(), token.start()
        if part in ("]", "}"):
            if frames:
                frames.pop()
            if not frames:
                return
            continue
        if part == ",":
            if frames:
                if frames[-1][0] == "[":
                    frames[-1][2] += 1
                else:
                    frames[-1][3] = True
            continue
        if part == ":":
            continue
        if frames and frames[-1][0] == "{" and frames[-1][3]:  # a key
            key = _string(part)
            frames[-1][2], frames[-1][3] = "?" if key is None else key, False
            yield f"{frames[-1][1]}.{frames[-1][2]}", at, part
            continue
        if not frames:
            current = root
        elif frames[-1][0] == "[":
            current = f"{frames[-1][1]}[{frames[-1][2]}]"
        else:
            current = f"{frames[-1][1]}.{frames[-1][2]}"
        yield current, at, part
        if part in ("[", "{"):
            frames.append([part, current, 0, part == "{"])


def _positions(text: str, start: int, end: int, root: str, wanted: set[str]) -> dict[str, int]:
    """Where each wanted path is in text[start:end] (its last occurrence: a key given twice
    counts as given where it is given last)."""
    found = {root: start} if root in wanted else {}
    for path, at, _ in _walk(text, start, end, root):
        if path in wanted:
            found[path] = at
    return found


def _path_at(text: str, start: int, end: int, root: str) -> str:
    """The path of the last key or value that begins before `end`."""
    path = root
    for path, _, _ in _walk(text, start, end, root):  # noqa: B007 (the last one is wanted)
        pass
    return path


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
