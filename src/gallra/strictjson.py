"""JSON from outside, read strictly: what Python's `json` accepts but no database or policy
should see is refused with the place it was found.

`loads(data, max_depth=..., max_bytes=...)` refuses, as `JSONError` (a ValueError) whose
`where` names the place (`categories.statistics`, `events[3].user`):

* more than `max_bytes` bytes, bytes that are not UTF-8 (a BOM included), broken JSON;
* nesting deeper than `max_depth` (Python's own reader dies of RecursionError near 1000);
* NaN, Infinity, numbers that overflow a double (`1e999999999`), integers outside a signed
  64-bit column, number literals longer than NUMBER_CHARS (a 5,000-digit number);
* a NUL character anywhere (PostgreSQL cannot store one), lone surrogates (`"\\ud800"`, not
  Unicode), duplicate keys in one object (which one would count?).

It is the C decoder with hooks plus one walk over the result, so it costs little more than
`json.loads`. Each entry point still checks its own shape and lengths.
"""

from __future__ import annotations

import json
import math
import re

__all__ = ["JSONError", "loads"]

NUMBER_CHARS = 40  # a 64-bit integer has 19 digits, a double about 17 significant ones
INT_LIMIT = 2**63  # a signed 64-bit integer column (PostgreSQL bigint) holds less than this
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,39}$")


class JSONError(ValueError):
    """JSON that is refused; `where` is the place ("" for the document as a whole)."""

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}" if where else message)


class _Bad:
    """Left in the decoded value by a hook; the walk reports it with its place."""

    __slots__ = ("message", "step")

    def __init__(self, message: str, step: str | None = None) -> None:
        self.message = message
        self.step = step  # a key the message is about, named in the place


def _decoder(found: list[_Bad]) -> json.JSONDecoder:
    """The C decoder, with hooks that leave a _Bad (and note it in `found`) where a value is
    refused."""

    def bad(message: str, step: str | None = None) -> _Bad:
        found.append(_Bad(message, step))
        return found[-1]

    def number(text: str, kind: type) -> object:
        if len(text) > NUMBER_CHARS:
            return bad(f"a number of {len(text)} characters (at most {NUMBER_CHARS})")
        value = kind(text)
        if kind is int and not -INT_LIMIT < value < INT_LIMIT:
            return bad("an integer outside the 64-bit range")
        if kind is float and not math.isfinite(value):
            return bad(f"{text} is too large for a number")
        return value

    def constant(name: str) -> _Bad:
        return bad(f"{name} is not a JSON number")

    def mapping(pairs: list[tuple[str, object]]) -> dict | _Bad:
        out = dict(pairs)
        if len(out) != len(pairs):
            seen: set[str] = set()
            for key, _value in pairs:
                if key in seen:
                    return bad("the key appears more than once", step=key)
                seen.add(key)
        return out

    return json.JSONDecoder(
        parse_int=lambda t: number(t, int),
        parse_float=lambda t: number(t, float),
        parse_constant=constant,
        object_pairs_hook=mapping,
    )


# Only these escapes make a NUL or a surrogate; raw ones cannot pass the decoder (bytes in
# UTF-8) or are looked for apart (a str).
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89abcdefABCDEF])")
_SURROGATE = re.compile("[\ud800-\udfff]")


def loads(
    data: bytes | str, *, max_depth: int = 32, max_bytes: int = 1 << 20, root: str = ""
) -> object:
    """The JSON value in `data`, or JSONError naming where it is refused. `root` names the
    whole document in places ("decision" gives "decision.categories")."""
    size = len(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    if size > max_bytes:
        raise JSONError(root, f"{size} bytes, more than the {max_bytes} allowed")
    if isinstance(data, bytes | bytearray):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JSONError(root, f"not UTF-8 (byte {exc.start})") from None
    else:
        text = data
    if text.startswith("\ufeff"):
        raise JSONError(root, "starts with a byte order mark (send plain UTF-8)")
    start = len(text) - len(text.lstrip(" \t\n\r"))
    found: list[_Bad] = []
    try:
        value, end = _decoder(found).raw_decode(text, start)
    except json.JSONDecodeError as exc:
        raise JSONError(root, f"line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise JSONError(
            _deep_place(text, max_depth, root), f"nested deeper than {max_depth} levels"
        ) from None
    if text[end:].strip(" \t\n\r"):
        line = text.count("\n", 0, end) + 1
        raise JSONError(root, f"line {line}: more after the JSON value")
    if (
        found
        or text.count("[") + text.count("{") > max_depth
        or _SUSPECT_ESCAPE.search(text)
        or (isinstance(data, str) and _SURROGATE.search(text))
    ):
        _walk(value, max_depth, root)  # something to refuse, or to look at: find the place
    return value


def _walk(value: object, max_depth: int, root: str) -> None:
    """Depth first, without recursion; the first refused value raises with its place."""
    stack: list[tuple[object, tuple, int]] = [(value, (), 0)]
    while stack:
        item, place, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item, place, root)
        elif isinstance(item, _Bad):
            step = () if item.step is None else (item.step,)
            raise JSONError(_where((*place, *step), root), item.message)
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                raise JSONError(_where(place, root), f"nested deeper than {max_depth} levels")
            if isinstance(item, dict):
                for key, child in reversed(item.items()):
                    _check_text(key, (*place, key), root, is_key=True)
                    stack.append((child, (*place, key), depth + 1))
            else:
                for i in range(len(item) - 1, -1, -1):
                    stack.append((item[i], (*place, i), depth + 1))


def _check_text(text: str, place: tuple, root: str, *, is_key: bool = False) -> None:
    what = "the key" if is_key else "the text"
    if "\x00" in text:
        raise JSONError(_where(place, root), f"{what} holds a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise JSONError(
            _where(place, root), f"{what} holds a lone surrogate (not Unicode)"
        ) from None


def _key_text(key: str) -> str:
    shown = json.dumps(key[:40])  # ASCII only: control characters and surrogates escaped
    return shown + ("…" if len(key) > 40 else "")


def _where(place: tuple, root: str) -> str:
    out = root
    for step in place:
        if isinstance(step, int):
            out += f"[{step}]"
        elif _KEY.match(step):
            out += f".{step}" if out else step
        else:
            out += f"[{_key_text(step)}]"
    return out


_PART = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},:]')


def _deep_place(text: str, max_depth: int, root: str) -> str:
    """Where a document too deep for the decoder first goes below max_depth levels."""
    frames: list[list] = []  # [kind, the current key or index, a key is expected next]
    for match in _PART.finditer(text):
        part = match.group()
        if part in ("[", "{"):
            if len(frames) >= max_depth:
                break
            frames.append([part, 0 if part == "[" else "?", part == "{"])
        elif part in ("]", "}"):
            if frames:
                frames.pop()
        elif part == ",":
            if frames and frames[-1][0] == "[":
                frames[-1][1] += 1
            elif frames:
                frames[-1][2] = True
        elif part != ":" and frames and frames[-1][2]:
            try:
                frames[-1][1] = json.loads(part)
            except ValueError:
                frames[-1][1] = "?"
            frames[-1][2] = False
    return _where(tuple(f[1] for f in frames), root)
