"""Limits every request meets before a handler sees it, whatever its endpoint.

The limits of single fields (lengths, list sizes) live in the request Structs; these are
the rules that hold for all text and all bodies alike:

- No control characters in text: not in a JSON body (keys and values, at any depth), not
  in a query parameter, not in the path. Tab, line feed and carriage return are allowed
  (in a body). PostgreSQL text cannot hold U+0000 at all, and the other C0 and C1 controls
  are invisible in every page that shows them. Everything else (right-to-left overrides,
  zero-width joiners, letters of any script) is stored exactly as sent.
- A JSON body nests at most MAX_JSON_DEPTH objects and arrays deep.
- A body is UTF-8 (RFC 8259): anything else is malformed JSON.
- A query parameter value or a path segment is at most MAX_PARAMETER_LENGTH characters.

The body size limit is `Settings.max_body_bytes`, enforced by litestar (413).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from litestar import Request
from litestar.exceptions import ClientException, SerializationException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

#: Objects and arrays inside one another, counting the body itself as level 1.
MAX_JSON_DEPTH = 16
#: Characters in one query parameter value or one path segment.
MAX_PARAMETER_LENGTH = 200
#: C0 controls but tab, line feed and carriage return; DEL; the C1 controls.
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: In a query or path, where even tab and line feed have no business.
ANY_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTROL_RULE = (
    "text may not contain control characters (U+0000-U+001F other than tab, line feed "
    "and carriage return, U+007F-U+009F)"
)


class InputRefused(Exception):
    """A request breaks one of the API's input limits; it names the field and the limit."""

    def __init__(self, key: str, message: str, source: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message
        self.source = source


def control_character_message(character: str) -> str:
    return f"contains the control character U+{ord(character):04X}; {CONTROL_RULE}"


def check_json_body(value: Any) -> None:
    """InputRefused naming the first place in a decoded body that breaks a limit."""
    # Iterative, so a body nested deeper than the limit cannot exhaust the stack here.
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item, path or "body")
        elif isinstance(item, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise InputRefused(
                    path or "body",
                    f"nested more than {MAX_JSON_DEPTH} objects or arrays deep",
                    "body",
                )
            if isinstance(item, dict):
                for key, child in item.items():
                    child_path = f"{path}.{key}" if path else str(key)
                    _check_text(key, child_path)
                    stack.append((child, child_path, depth + 1))
            else:
                for index, child in enumerate(item):
                    stack.append((child, f"{path}[{index}]", depth + 1))


def _check_text(text: str, key: str) -> None:
    found = CONTROL_CHARACTER.search(text)
    if found is not None:
        raise InputRefused(key, control_character_message(found.group()), "body")


class LimitedRequest(Request[Any, Any, Any]):
    """litestar's Request, whose JSON body is refused clearly when it breaks a limit (and
    not answered with a 500 when it is too deep for the decoder, or not UTF-8)."""

    async def json(self) -> Any:
        try:
            value = await super().json()
        except RecursionError:
            raise InputRefused(
                "body", f"nested more than {MAX_JSON_DEPTH} objects or arrays deep", "body"
            ) from None
        except UnicodeDecodeError as error:
            # on_http_error answers this as malformed JSON (a 400).
            raise ClientException(detail=f"not UTF-8 ({error.reason})") from (
                SerializationException("not UTF-8")
            )
        check_json_body(value)
        return value


class ParameterLimits(ASGIMiddleware):
    """Refuses a query parameter or path segment with a control character, or longer than
    MAX_PARAMETER_LENGTH characters, before any handler or store sees it."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        check_path(scope["path"])
        check_query(scope.get("query_string", b""))
        await next_app(scope, receive, send)


def check_path(path: str) -> None:
    for segment in path.split("/"):
        _check_parameter(segment, "path", "path")


def check_query(query_string: bytes) -> None:
    text = query_string.decode("utf-8", errors="replace")
    for name, value in parse_qsl(text, keep_blank_values=True, errors="replace"):
        _check_parameter(name, name, "query")
        _check_parameter(value, name, "query")


def _check_parameter(text: str, key: str, source: str) -> None:
    found = ANY_CONTROL_CHARACTER.search(text)
    if found is not None:
        raise InputRefused(key[:50], control_character_message(found.group()), source)
    if len(text) > MAX_PARAMETER_LENGTH:
        raise InputRefused(
            key[:50], f"longer than {MAX_PARAMETER_LENGTH} characters ({len(text)})", source
        )
