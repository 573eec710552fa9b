"""``manage.py ws_prune``: find sessions whose ``$disconnect`` never arrived, and mark them.

API Gateway delivers ``$disconnect`` best effort. This asks the Management API
(``GetConnection``, in parallel) about each connected session and marks the gone ones
disconnected in one ``UPDATE``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from apigw_ws import cli_types

from ...models import WebSocketSession
from ...sending import CONNECT_GRACE, get_sender, mark_gone, recipients
from ..base import resolve_gateway
from ..report_output import progress_bar, write_report
from .ws_send import GATEWAY_MESSAGES


class Command(BaseCommand):
    help = "Check connected sessions with the Management API and mark the gone ones."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=cli_types.seconds(CONNECT_GRACE.total_seconds()),
            default=CONNECT_GRACE.total_seconds(),
            metavar="SECONDS",
            help="Only sessions connected at least this long ago (default and minimum:"
            " %(default)s, so that no $connect in flight is checked).",
        )
        parser.add_argument("--gateway", help="Only sessions of this gateway (API name or id).")
        parser.add_argument(
            "--concurrency", type=cli_types.concurrency, help="Parallel checks (SEND_CONCURRENCY)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Report the gone sessions; mark nothing."
        )
        parser.add_argument("--json", action="store_true", help="Print the summary as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        cutoff = timezone.now() - timedelta(seconds=options["older_than"])
        sessions = WebSocketSession.objects.filter(connected=True, connected_at__lte=cutoff)
        if options["gateway"]:
            sessions = sessions.filter(
                api_gateway=resolve_gateway(options["gateway"], messages=GATEWAY_MESSAGES)
            )
        total = sessions.count()
        with progress_bar(total, not options["json"], "checking") as update:
            report = get_sender(options["concurrency"]).check(recipients(sessions), progress=update)
        marked = 0 if options["dry_run"] else mark_gone(report.gone, source="prune")
        labels = {
            "checked": total,
            "alive": report.sent,
            "gone": len(report.gone),
            "marked": marked,
            "failed": len(report.failed),
        }
        write_report(self, report, labels, options["json"])
