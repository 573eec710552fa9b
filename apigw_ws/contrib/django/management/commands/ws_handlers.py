"""``manage.py ws_handlers``: every handler a message can reach, and who registered it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from django.core.management.base import CommandParser

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
                    "max_bytes": handler.max_bytes,
                    "description": handler.description,
                    "source": handler.source,
                }
            )
        return rows

    def cell(self, row: dict[str, Any], key: str) -> str:
        if key == "permissions":
            return describe_permissions(row["permissions"], row["all_permissions"])
        if key == "source":
            return short_path(row["source"])
        return super().cell(row, key)
