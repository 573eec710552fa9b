"""``manage.py ws_handlers``: every handler a message can reach, and who registered it."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.management.base import CommandParser

from apigw_ws.contrib.django.conf import ws_settings
from apigw_ws.events import route_key_for
from apigw_ws.plugins import Plugins

from ..base import ListCommand


def describe_permissions(any_of: Sequence[str], all_of: Sequence[str]) -> str:
    """Return a handler's permission rule as a boolean expression, ``""`` if it has none.

    ``any_of`` (the handler's ``permissions``) are joined with ``or``, ``all_of`` (its
    ``all_permissions``) with ``and``; a handler with both needs both: ``(a or b) and c``.
    """
    either = " or ".join(any_of)
    if len(any_of) > 1 and all_of:
        either = f"({either})"
    return " and ".join(filter(None, [either, *all_of]))


def plain(value: Any) -> Any:
    """Return ``value`` (a handler schema) with every mapping a dict and sequence a list."""
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def short_path(source: str) -> str:
    """Return ``source`` (``file:line``) relative to the working directory when inside it."""
    cwd = os.getcwd() + os.sep
    return source.removeprefix(cwd)


class Command(ListCommand):
    help = (
        "List the registered handlers: route key, name, plugin, its distribution and version,"
        " the permissions a user needs, and where the handler is defined."
    )
    columns = (
        ("route", "ROUTE"),
        ("name", "NAME"),
        ("plugin", "PLUGIN"),
        ("distribution", "DISTRIBUTION"),
        ("version", "VERSION"),
        ("permissions", "PERMISSIONS"),
        ("source", "SOURCE"),
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--route",
            help="Only the handlers of this route key, e.g. '$default' (or 'default') or 'chat'.",
        )

    def get_rows(self, plugins: Plugins, options: dict[str, Any]) -> list[dict[str, Any]]:
        infos = {info.name: info for info in plugins.infos}
        route = options["route"]
        rows = []
        for handler in plugins.registry:
            if route is not None and handler.route != route_key_for(route):
                continue
            info = infos.get(handler.plugin)
            rows.append(
                {
                    "route": handler.route,
                    "name": handler.name,
                    "plugin": handler.plugin,
                    "distribution": info.distribution if info else "",
                    "version": info.version if info else "",
                    "permissions": list(handler.permissions),
                    "all_permissions": list(handler.all_permissions),
                    "required_keys": list(handler.required_keys),
                    "schema": plain(handler.schema),
                    "max_bytes": handler.max_bytes,
                    "description": handler.description,
                    "source": handler.source,
                }
            )
        return rows

    def nothing_to_list(self, plugins: Plugins, options: dict[str, Any]) -> str:
        route = options["route"]
        routes = sorted(plugins.registry.routes())
        if route is not None and routes:
            return (
                f"No handler is registered on route {route_key_for(route)!r}. Routes with"
                f" handlers: {', '.join(routes)}."
            )
        loaded = [info.name for info in plugins.infos if not info.blocked]
        blocked = [info.name for info in plugins.infos if info.blocked]
        lines = [
            "No handlers are registered, so every message is refused.",
            f"Loaded plugins: {', '.join(loaded) or 'none'}"
            + (f"; blocked: {', '.join(blocked)}." if blocked else "."),
            "A plugin registers handlers in its apigw_ws_register_handlers hook; list its"
            " module in APIGW_WS['PLUGINS'], or install a package with an 'apigw_ws' entry"
            " point"
            + ("" if ws_settings.LOAD_ENTRY_POINTS else " and set LOAD_ENTRY_POINTS to True")
            + " (python manage.py ws_startplugin NAME makes one).",
        ]
        return "\n".join(lines)

    def cell(self, row: dict[str, Any], key: str) -> str:
        if key == "permissions":
            return describe_permissions(row["permissions"], row["all_permissions"])
        if key == "source":
            return short_path(row["source"])
        return super().cell(row, key)
