"""``manage.py ws_plugins``: which plugins were asked for, where from, and what they implement."""

from __future__ import annotations

from typing import Any

from apigw_ws.plugins import Plugins

from ..base import ListCommand

HOOK_PREFIX = "apigw_ws_"


class Command(ListCommand):
    help = (
        "List the apigw_ws plugins in load order: name, source (settings, entry point or"
        " object), distribution, version, implemented hooks (without the 'apigw_ws_' prefix"
        " in the table) and status (loaded, blocked, or error)."
    )
    columns = (
        ("name", "NAME"),
        ("source", "SOURCE"),
        ("distribution", "DISTRIBUTION"),
        ("version", "VERSION"),
        ("status", "STATUS"),
        ("hooks", "HOOKS"),
    )

    def get_rows(self, plugins: Plugins, options: dict[str, Any]) -> list[dict[str, Any]]:
        problems: dict[str, list[str]] = {}
        for problem in plugins.problems:
            problems.setdefault(problem.plugin, []).append(problem.message)
        rows = []
        for info in plugins.infos:
            mine = problems.get(info.name, [])
            rows.append(
                {
                    "name": info.name,
                    "source": info.source,
                    "distribution": info.distribution,
                    "version": info.version,
                    "hooks": list(info.hooks),
                    "blocked": info.blocked,
                    "status": "blocked" if info.blocked else "error" if mine else "loaded",
                    "problems": mine,
                }
            )
        return rows

    def cell(self, row: dict[str, Any], key: str) -> str:
        if key == "hooks":
            return ", ".join(hook.removeprefix(HOOK_PREFIX) for hook in row[key])
        return super().cell(row, key)
