"""Route selection as API Gateway does it: evaluate the route selection expression.

A JSON message whose selected value names a route with an integration goes to that
route; anything else (not JSON, not an object, no such key, an unknown route) goes to
``$default``. Without a ``$default`` route such a message goes nowhere and the client
is told ``Forbidden``, as on AWS.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import attrs

DEFAULT_ROUTE = "$default"
CONNECT_ROUTE = "$connect"
DISCONNECT_ROUTE = "$disconnect"
DEFAULT_EXPRESSION = "$request.body.action"

_PATH = r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*"
_WHOLE_RE = re.compile(rf"\$request\.body\.({_PATH})")
_PART_RE = re.compile(rf"\$\{{request\.body\.({_PATH})\}}")


def _lookup(body: Any, path: tuple[str, ...]) -> str | None:
    for key in path:
        if not isinstance(body, dict) or key not in body:
            return None
        body = body[key]
    if isinstance(body, bool):
        return "true" if body else "false"
    if isinstance(body, str | int | float):
        return str(body)
    return None


@attrs.frozen
class RouteSelector:
    """A parsed route selection expression and the route keys that have an integration.

    Supported expressions: ``$request.body.<path>`` and templates made of literal text
    and ``${request.body.<path>}`` parts, where ``<path>`` may be dotted (``a.b``).
    """

    expression: str
    routes: frozenset[str]
    _parts: tuple[str | tuple[str, ...], ...] = attrs.field(repr=False)

    @classmethod
    def parse(cls, expression: str, routes: Iterable[str]) -> RouteSelector:
        """Return the selector of ``expression``; raise ``ValueError`` if unsupported."""
        whole = _WHOLE_RE.fullmatch(expression)
        parts: list[str | tuple[str, ...]] = []
        if whole:
            parts.append(tuple(whole.group(1).split(".")))
        else:
            position = 0
            for match in _PART_RE.finditer(expression):
                parts.append(expression[position : match.start()])
                parts.append(tuple(match.group(1).split(".")))
                position = match.end()
            parts.append(expression[position:])
            if not any(isinstance(part, tuple) for part in parts) or any(
                isinstance(part, str) and "$" in part for part in parts
            ):
                raise ValueError(
                    f"unsupported route selection expression {expression!r}: use"
                    " '$request.body.<key>' or a template of '${request.body.<key>}' parts"
                )
        return cls(expression, frozenset(routes), tuple(p for p in parts if p != ""))

    def selected_value(self, body: bytes) -> str | None:
        """Return what the expression evaluates to on a message, or ``None``."""
        try:
            message = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested too deep
            return None
        values = []
        for part in self._parts:
            if isinstance(part, str):
                values.append(part)
                continue
            value = _lookup(message, part)
            if value is None:
                return None
            values.append(value)
        return "".join(values)

    def select(self, body: bytes) -> str | None:
        """Return the route key of a message, or ``None`` if no route takes it."""
        value = self.selected_value(body)
        # Messages never reach $connect or $disconnect, whatever they say.
        if value is not None and value in self.routes and not value.startswith("$"):
            return value
        return DEFAULT_ROUTE if DEFAULT_ROUTE in self.routes else None
