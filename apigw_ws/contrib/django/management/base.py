"""The base of the listing commands: a table for people, ``--json`` for scripts.

Plugin load problems go to stderr with a non-zero exit, so a broken plugin is never silent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apigw_ws.contrib.django.models import ApiGateway
from apigw_ws.contrib.django.runtime import get_plugins
from apigw_ws.errors import GatewayNotFound
from apigw_ws.plugins import Plugins

EMPTY = "-"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Return ``rows`` under ``headers`` as left-aligned columns two spaces apart."""
    lines = [list(headers), *([cell or EMPTY for cell in row] for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def resolve_gateway(key: str | None, **options: Any) -> ApiGateway:
    """Return ``ApiGateway.objects.resolve(key, **options)``; a miss is a ``CommandError``."""
    try:
        return ApiGateway.objects.resolve(key, **options)
    except GatewayNotFound as exc:
        raise CommandError(str(exc)) from None


class TableCommand(BaseCommand):
    """Write rows as a table or, with ``--json``, a JSON list.

    Subclasses set ``columns`` (``(JSON key, table header)`` pairs); ``cell()`` turns a
    row's value into table text.
    """

    columns: tuple[tuple[str, str], ...] = ()

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--json", action="store_true", help="Print a JSON list of objects instead of a table."
        )

    def cell(self, row: dict[str, Any], key: str) -> str:
        value = row[key]
        if isinstance(value, list | tuple):
            return ", ".join(map(str, value))
        return "" if value is None else str(value)

    def write_rows(self, rows: list[dict[str, Any]], options: dict[str, Any]) -> None:
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
        else:
            headers = [header for _, header in self.columns]
            cells = [[self.cell(row, key) for key, _ in self.columns] for row in rows]
            self.stdout.write(format_table(headers, cells))


class ListCommand(TableCommand):
    """List rows as a table or, with ``--json``, a JSON list; then report plugin problems.

    Subclasses set ``columns`` and implement ``get_rows()``.
    """

    # These commands are how a broken plugin gets diagnosed: the system checks (which
    # fail on the same problems) must not stop them before they print.
    requires_system_checks: list[str] = []

    def get_rows(self, plugins: Plugins, options: dict[str, Any]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def nothing_to_list(self, plugins: Plugins, options: dict[str, Any]) -> str:
        """Return what the table says when there are no rows (``""``: nothing)."""
        return ""

    def handle(self, *args: Any, **options: Any) -> None:
        plugins = get_plugins()
        rows = self.get_rows(plugins, options)
        if rows or options["json"]:
            self.write_rows(rows, options)
        elif note := self.nothing_to_list(plugins, options):
            self.stdout.write(note)
        report_problems(self, plugins)


def report_problems(command: BaseCommand, plugins: Plugins) -> None:
    """Write each plugin problem to stderr, then raise ``CommandError`` if there was any."""
    if not plugins.problems:
        return
    for problem in plugins.problems:
        command.stderr.write(str(problem))
    names = ", ".join(sorted({repr(problem.plugin) for problem in plugins.problems}))
    raise CommandError(
        f"{len(plugins.problems)} plugin problem(s), in {names}. Fix or uninstall the"
        " plugin, or add its name to APIGW_WS['BLOCKED_PLUGINS']."
    )
