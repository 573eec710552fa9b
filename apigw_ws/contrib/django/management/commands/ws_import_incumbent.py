"""``manage.py ws_import_incumbent``: copy django-aws-api-gateway-websockets rows into ours."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from apigw_ws.contrib.django.incumbent import IncumbentTablesMissing, import_incumbent
from apigw_ws.contrib.django.runtime import get_plugins

from ..base import format_table


class Command(BaseCommand):
    help = (
        "Import the API gateways and live sessions of django-aws-api-gateway-websockets from"
        " its tables (its app need not be installed), and list its additional routes with"
        " what each needs here. Existing rows are left alone, so it can run twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--database",
            default=DEFAULT_DB_ALIAS,
            help="The database holding both apps' tables (default: %(default)s).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would be imported; write nothing."
        )
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = import_incumbent(
                using=options["database"],
                dry_run=options["dry_run"],
                registered_routes=set(get_plugins().registry.routes()),
            )
        except IncumbentTablesMissing as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
            return
        verb = "would import" if report.dry_run else "imported"
        self.stdout.write(
            f"Gateways: {verb} {len(report.gateways_created)}"
            f" ({', '.join(report.gateways_created) or '-'}),"
            f" already here {len(report.gateways_existing)}."
        )
        self.stdout.write(
            f"Live sessions: {verb} {report.sessions_created},"
            f" already here {report.sessions_existing}, skipped {len(report.sessions_skipped)}."
        )
        for connection_id, reason in report.sessions_skipped:
            self.stderr.write(f"  skipped session {connection_id}: {reason}")
        if report.routes:
            self.stdout.write("Additional routes:")
            headers = ["GATEWAY", "ROUTE KEY", "INTEGRATION URL", "TO DO"]
            keys = ["gateway", "route_key", "integration_url", "action"]
            rows = [[route[key] for key in keys] for route in report.routes]
            self.stdout.write(format_table(headers, rows))
