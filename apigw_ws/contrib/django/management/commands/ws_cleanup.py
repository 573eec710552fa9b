"""``manage.py ws_cleanup``: delete expired tokens and other rows nothing will read again."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from ...cleanup import CLEANUPS, run_cleanups
from ..base import format_table


class Command(BaseCommand):
    help = (
        "Delete what has expired: spent and expired WebSocket tokens, background fan-outs"
        " finished more than a week ago, and the other tables the apigw_ws app prunes."
        " Safe to run at any time, e.g. every few minutes from cron."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--only",
            action="append",
            choices=[name for name, _ in CLEANUPS],
            help="Run only this cleanup (repeatable). Default: all.",
        )
        parser.add_argument(
            "--json", action="store_true", help="Print a JSON list of objects instead of a table."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = run_cleanups(tuple(options["only"] or ()))
        rows = [{"table": name, "deleted": count} for name, count in deleted.items()]
        if options["json"]:
            self.stdout.write(json.dumps(rows, indent=2))
        else:
            cells = [[row["table"], str(row["deleted"])] for row in rows]
            self.stdout.write(format_table(["TABLE", "DELETED"], cells))
