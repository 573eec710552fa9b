"""``manage.py ws_cleanup``: delete expired tokens and other rows nothing will read again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from ...cleanup import CLEANUPS, run_cleanups
from ..base import TableCommand


class Command(TableCommand):
    help = (
        "Delete what has expired: spent and expired WebSocket tokens, background fan-outs"
        " finished more than a week ago, and the other tables the apigw_ws app prunes."
        " Safe to run at any time, e.g. every few minutes from cron."
    )

    columns = (("table", "TABLE"), ("deleted", "DELETED"))

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--only",
            action="append",
            choices=[name for name, _ in CLEANUPS],
            help="Run only this cleanup (repeatable). Default: all.",
        )
        super().add_arguments(parser)  # --json

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = run_cleanups(tuple(options["only"] or ()))
        rows = [{"table": name, "deleted": count} for name, count in deleted.items()]
        self.write_rows(rows, options)
