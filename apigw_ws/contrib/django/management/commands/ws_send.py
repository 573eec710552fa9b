"""``manage.py ws_send``: send a message to connections, a user, a channel or everyone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import QuerySet

from apigw_ws.cli_types import MAX_CONCURRENCY
from apigw_ws.errors import ApigwWsError
from apigw_ws.sending import SendReport
from apigw_ws.validation import MAX_JSON_DEPTH, nesting_exceeds

from ...models import WebSocketSession
from ...sending import send_to_sessions
from ..base import resolve_gateway
from ..report_output import progress_bar, write_report


def parse_data(value: str) -> Any:
    """Return the JSON of ``value``, or of the file it names as ``@path``."""
    if value.startswith("@"):
        try:
            value = Path(value[1:]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {value[1:]!r}: {exc}") from None
    try:
        return json.loads(value)
    except ValueError as exc:
        raise CommandError(f"--data is not JSON: {exc}") from None


def checked_arguments(options: dict[str, Any]) -> Any:
    """Return the message of ``--data`` once every option a bad value could break is checked.

    A huge ``--concurrency`` would start that many tasks; JSON nested deeper than any
    message may be cannot be encoded (``RecursionError``).
    """
    concurrency = options["concurrency"]
    if concurrency is not None and not 1 <= concurrency <= MAX_CONCURRENCY:
        raise CommandError(
            f"--concurrency must be at least 1 and at most {MAX_CONCURRENCY}, not {concurrency}"
        )
    try:
        data = parse_data(options["data"])
    except RecursionError:
        data = None
        deep = True
    else:
        deep = nesting_exceeds(data, MAX_JSON_DEPTH) if isinstance(data, dict | list) else False
    if deep:
        raise CommandError(f"--data nests deeper than {MAX_JSON_DEPTH} levels")
    return data


#: ``--gateway``: an API name or id, of any row (a disabled gateway's sessions included).
GATEWAY_MESSAGES = {"unknown": "no gateway with API name or id {key!r}"}


class Command(BaseCommand):
    help = "Send a JSON message to connected sessions and print what happened to each."

    def add_arguments(self, parser: CommandParser) -> None:
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument(
            "--connection",
            action="append",
            metavar="ID",
            help=(
                "A connection id (repeatable). Ids may start with '-': write"
                " --connection=ID so it is not taken for an option."
            ),
        )
        who.add_argument("--user", metavar="USERNAME", help="Every session of this user.")
        who.add_argument("--channel", metavar="NAME", help="Every session in this channel.")
        who.add_argument("--all", action="store_true", help="Every connected session.")
        parser.add_argument(
            "--data", required=True, help="The message: JSON, or @path of a JSON file."
        )
        parser.add_argument("--gateway", help="Only sessions of this gateway (API name or id).")
        parser.add_argument(
            "--background",
            action="store_true",
            help="Enqueue the send as tasks (APIGW_WS['TASK_BACKEND']) and return at once.",
        )
        parser.add_argument("--concurrency", type=int, help="Parallel sends (SEND_CONCURRENCY).")
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def sessions(self, options: dict[str, Any]) -> QuerySet:
        sessions = WebSocketSession.objects.all()
        if options["connection"]:
            sessions = sessions.filter(connection_id__in=options["connection"])
        elif options["user"]:
            user_model = get_user_model()
            user = user_model._default_manager.filter(
                **{user_model.USERNAME_FIELD: options["user"]}
            ).first()
            if user is None:
                raise CommandError(f"no user {options['user']!r}")
            sessions = sessions.filter(user=user)
        elif options["channel"]:
            sessions = sessions.filter(channel_name=options["channel"])
        if options["gateway"]:
            sessions = sessions.filter(
                api_gateway=resolve_gateway(options["gateway"], messages=GATEWAY_MESSAGES)
            )
        return sessions

    def handle(self, *args: Any, **options: Any) -> None:
        data = checked_arguments(options)
        sessions = self.sessions(options)
        try:
            if options["background"]:
                results = send_to_sessions(sessions, data, background=True)
                self.write_enqueued(results, options["json"])
                return
            total = sessions.filter(connected=True).count()
            with progress_bar(total, not options["json"], "sending") as update:
                report: SendReport = send_to_sessions(
                    sessions, data, concurrency=options["concurrency"], progress=update
                )
        except ApigwWsError as exc:
            raise CommandError(str(exc)) from None
        labels = {"sessions": total, "sent": report.sent, "gone": len(report.gone)}
        write_report(self, report, {**labels, "failed": len(report.failed)}, options["json"])
        if report.failed:
            raise CommandError(f"{len(report.failed)} connection(s) failed")

    def write_enqueued(self, results: Any, as_json: bool) -> None:
        ids = [str(result.id) for result in results]
        fanout = results.fanout
        if as_json:
            self.stdout.write(
                json.dumps(
                    {"fanout": fanout.pk, "message_id": fanout.message_id, "tasks": ids}, indent=2
                )
            )
        else:
            self.stdout.write(
                f"fan-out {fanout.pk}: {fanout.recipients} session(s), enqueued {len(ids)}"
                f' task(s), every message with "id" {fanout.message_id}; follow it with'
                f" `manage.py ws_fanouts show {fanout.pk}`"
            )
