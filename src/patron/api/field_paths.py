"""Field paths of request validation errors as a client wrote the fields, never as Pydantic
built the validator.

Pydantic locates an error inside a union by the branch's tag, so a bad ``member`` (a string, or
an object such as ``{"email": ...}``) came out as ``member.constrained-str`` and
``member.function-after[_exactly_one(), MemberRefIn]``, one error per branch. Here each location
is walked along the request body: a name that is a key of the object at that point is a field; a
name where the body holds no object (a string has no fields), or that looks like a validator
(``constrained-str``, ``function-after[...]``, a class name, a type name), is a union branch and is
dropped. ``[key]`` (an error about a mapping's key) is dropped too: the path names the key.

A union then reports once: the branch errors that went past the type check (the input had the
right shape, a deeper value is wrong) are kept; when every branch refused the type, one error
says what the field should have been ("a valid string or an object").

Paths read ``lines[0].quantity``, ``consents.email_marketing``, ``config.rules[3].factor``, as
the domain's own field errors do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

SOURCES = ("body", "query", "path", "header", "cookie")

# Pydantic's tags for plain types; a field of Patron's is never named so.
_TYPE_NAMES = frozenset(
    [
        "str",
        "int",
        "float",
        "bool",
        "bytes",
        "decimal",
        "date",
        "datetime",
        "time",
        "timedelta",
        "list",
        "dict",
        "set",
        "frozenset",
        "tuple",
        "none",
        "uuid",
        "url",
        "any",
        "json",
    ]
)
_TAG = re.compile(r"[\[\]\-(),]|^[A-Z]")

_EXPECTED = {
    "string_type": "a string",
    "model_attributes_type": "an object",
    "model_type": "an object",
    "dict_type": "an object",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "decimal_type": "a decimal number",
    "decimal_parsing": "a decimal number",
    "bool_type": "a boolean",
    "bool_parsing": "a boolean",
    "list_type": "a list",
    "date_type": "a date",
    "date_parsing": "a date",
    "datetime_type": "a date-time",
    "datetime_parsing": "a date-time",
    "none_required": "null",
}


def _is_tag(part: str, value: Any) -> bool:
    if isinstance(value, dict) and part in value:
        return False
    if value is not None and not isinstance(value, dict):
        return True  # nothing but an object has fields
    return part.lower() in _TYPE_NAMES or bool(_TAG.search(part))


def _walk(loc: Sequence[Any], body: Any) -> tuple[list[str | int], tuple[str | int, ...] | None]:
    """The clean parts of ``loc``, and the clean path of the first union it went through."""
    parts = list(loc)
    value: Any = None
    if parts and parts[0] in SOURCES:
        value = body if parts[0] == "body" else None
        parts = parts[1:]
    clean: list[str | int] = []
    union: tuple[str | int, ...] | None = None
    for part in parts:
        if isinstance(part, int):
            clean.append(part)
            in_list = isinstance(value, list) and 0 <= part < len(value)
            value = value[part] if in_list else None
        elif part == "[key]":
            continue
        elif _is_tag(str(part), value):
            union = tuple(clean) if union is None else union
        else:
            clean.append(str(part))
            value = value.get(part) if isinstance(value, dict) else None
    return clean, union


def render(parts: Iterable[str | int], where: str = "body") -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or where


def _type_refused(item: Mapping[str, Any], union: tuple[str | int, ...]) -> bool:
    return tuple(item["parts"]) == union and item["type"] in _EXPECTED


def field_errors(errors: Sequence[Mapping[str, Any]], body: Any) -> list[dict[str, str]]:
    """``[{path, message, type}]`` of Pydantic ``errors`` (``loc``, ``msg``, ``type``), with
    clean paths and one report per union."""
    items: list[dict[str, Any]] = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        parts, union = _walk(loc, body)
        items.append(
            {
                "parts": parts,
                "where": str(loc[0]) if loc and loc[0] in SOURCES else "body",
                "union": union,
                "message": str(error.get("msg", "")).removeprefix("Value error, "),
                "type": str(error.get("type", "invalid")),
            }
        )
    out: list[dict[str, str]] = []
    done: set[tuple[str | int, ...]] = set()
    for item in items:
        union = item["union"]
        if union is None:
            out.append(_shown(item))
            continue
        if union in done:
            continue
        done.add(union)
        branch = [other for other in items if other["union"] == union]
        deeper = [other for other in branch if not _type_refused(other, union)]
        if deeper:
            out += [_shown(other) for other in deeper]
            continue
        expected = list(dict.fromkeys(_EXPECTED[other["type"]] for other in branch))
        merged = {**item, "message": "Input should be " + " or ".join(expected)}
        out.append(_shown(merged))
    unique: dict[tuple[str, str], dict[str, str]] = {}
    for shown in out:
        unique.setdefault((shown["path"], shown["message"]), shown)
    return list(unique.values())


def _shown(item: Mapping[str, Any]) -> dict[str, str]:
    return {
        "path": render(item["parts"], item["where"]),
        "message": item["message"],
        "type": item["type"],
    }
