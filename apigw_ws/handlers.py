"""Handlers and the registry: the only way a message can reach code.

A message names a handler by string; the dispatch view looks the string up in this
registry and nowhere else, so no client-supplied name is ever resolved with ``getattr``.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import attrs

from .errors import ConfigurationError
from .protocol import DEFAULT_ROUTE
from .schema import check_schema

DEFAULT_HANDLER = "default"

#: Handler names: a letter first (so ``_private`` is impossible), then letters, digits,
#: ``_``, ``-`` and ``.``; 64 characters at most.
HANDLER_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")
#: Custom route keys become URL segments (``ws/<key>``), so they get the same alphabet.
ROUTE_KEY_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
#: Custom keys that would shadow the URLs of the predefined routes.
RESERVED_ROUTE_KEYS = frozenset({"connect", "disconnect", "default", "token"})

_MARK = "__apigw_ws_handler__"


def _strings(value: str | Iterable[str]) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else tuple(value)
    if not all(isinstance(item, str) and item for item in items):
        raise ConfigurationError(f"permissions must be non-empty strings, got {value!r}")
    return items


def validate_route_key(route: str) -> str:
    """Return ``route`` if it is ``$default`` or a valid custom route key, else raise."""
    if route == DEFAULT_ROUTE:
        return route
    if not isinstance(route, str) or not ROUTE_KEY_RE.fullmatch(route):
        raise ConfigurationError(
            f"invalid route {route!r}: use '$default' or a key matching {ROUTE_KEY_RE.pattern}"
        )
    if route in RESERVED_ROUTE_KEYS:
        raise ConfigurationError(f"route key {route!r} is reserved for the predefined routes")
    return route


def validate_handler_name(name: str) -> str:
    """Return ``name`` if it is a valid handler name, else raise ``ConfigurationError``."""
    if not isinstance(name, str) or not HANDLER_NAME_RE.fullmatch(name):
        raise ConfigurationError(
            f"invalid handler name {name!r}: it must match {HANDLER_NAME_RE.pattern}"
        )
    return name


@attrs.frozen
class Handler:
    """A registered handler, as hooks, commands and the registry see it."""

    func: Callable[[Any], Any] = attrs.field(repr=False)
    name: str = attrs.field(validator=lambda _i, _a, v: validate_handler_name(v))
    route: str = attrs.field(
        default=DEFAULT_ROUTE, validator=lambda _i, _a, v: validate_route_key(v)
    )
    permissions: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    all_permissions: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    max_bytes: int | None = attrs.field(default=None)
    required_keys: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    #: What the body looks like, in the JSON-Schema subset of ``apigw_ws.schema``; the
    #: built-in validators refuse bodies that do not match it.
    schema: Mapping[str, Any] | None = attrs.field(
        default=None, eq=False, validator=lambda _i, _a, v: v is None or check_schema(v)
    )
    plugin: str = ""

    @max_bytes.validator
    def _check_max_bytes(self, _attribute: Any, value: int | None) -> None:
        if value is not None and (not isinstance(value, int) or value <= 0):
            raise ConfigurationError(f"max_bytes must be a positive int, got {value!r}")

    @property
    def key(self) -> tuple[str, str]:
        return (self.route, self.name)

    @property
    def description(self) -> str:
        """Return the first line of the handler function's docstring."""
        doc = inspect.getdoc(self.func) or ""
        return doc.splitlines()[0] if doc else ""

    @property
    def source(self) -> str:
        """Return ``file:line`` of the handler function, or ``""`` if unknown."""
        func = inspect.unwrap(self.func)
        try:
            return f"{inspect.getsourcefile(func)}:{inspect.getsourcelines(func)[1]}"
        except (OSError, TypeError):
            return ""


def handler(
    name: str | None = None,
    route: str = DEFAULT_ROUTE,
    permissions: str | Iterable[str] = (),
    all_permissions: str | Iterable[str] = (),
    *,
    max_bytes: int | None = None,
    required_keys: Iterable[str] = (),
    schema: Mapping[str, Any] | None = None,
) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
    """Mark a function as a handler; a plugin still has to register it.

    The name defaults to the function's name. ``schema`` describes the body (see
    ``apigw_ws.schema``). Options are validated here, so a bad name fails where it is
    written.
    """

    def decorate(func: Callable[[Any], Any]) -> Callable[[Any], Any]:
        options = {
            "name": name or func.__name__,
            "route": route,
            "permissions": permissions,
            "all_permissions": all_permissions,
            "max_bytes": max_bytes,
            "required_keys": required_keys,
            "schema": schema,
        }
        Handler(func=func, **options)  # validate now; registration builds the real one
        setattr(func, _MARK, options)
        return func

    return decorate


def duplicate_message(old: Handler, new: Handler) -> str:
    """Say which two plugins registered one (route, name), what is kept, and what to do."""
    first, second = old.plugin or "(no plugin)", new.plugin or "(no plugin)"
    return (
        f"handler {new.name!r} on route {new.route!r} is already registered by plugin"
        f" {first!r}, and plugin {second!r} registers it again; {first!r} keeps it."
        f" {second!r} keeps the handlers it registered before this one and loses the rest"
        " (its apigw_ws_register_handlers stopped here). Rename one of them (e.g."
        f" {second}.{new.name}: names that start with the plugin's name cannot clash) or"
        " block one plugin with APIGW_WS['BLOCKED_PLUGINS']."
    )


class HandlerRegistry:
    """Handlers by (route key, name), filled once at start-up and read per request."""

    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str], Handler] = {}

    def register(self, func: Callable[[Any], Any], *, plugin: str = "", **options: Any) -> Handler:
        """Add ``func`` under the options of its ``@handler`` mark, overridden by ``options``."""
        if not callable(func):
            raise ConfigurationError(f"handler must be callable, got {func!r}")
        merged = {**getattr(func, _MARK, {}), **options}
        merged.setdefault("name", getattr(func, "__name__", ""))
        try:
            new = Handler(func=func, plugin=plugin, **merged)
        except TypeError as exc:  # an unknown option
            raise ConfigurationError(f"cannot register {func!r}: {exc}") from None
        old = self._handlers.get(new.key)
        if old is not None:
            raise ConfigurationError(duplicate_message(old, new))
        self._handlers[new.key] = new
        return new

    def get(self, route: str, name: str) -> Handler | None:
        """Return the handler registered under exactly (``route``, ``name``), or ``None``."""
        return self._handlers.get((route, name))

    def routes(self) -> frozenset[str]:
        """Return the route keys that have at least one handler."""
        return frozenset(route for route, _ in self._handlers)

    def __iter__(self) -> Iterator[Handler]:
        return iter(sorted(self._handlers.values(), key=lambda h: h.key))

    def __len__(self) -> int:
        return len(self._handlers)
