"""Admin actions on sessions: send a test message, disconnect.

Both act on live connections, so both need the delete permission on sessions (the
changelist itself is read-only), and both only touch connected sessions.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apigw_ws.errors import ApigwWsError

from .sending import get_sender, mark_gone, recipients, send_to_sessions
from .session_cache import forget


def _tell(modeladmin: Any, request: HttpRequest, done: str, report: Any) -> None:
    level = messages.WARNING if report.failed else messages.SUCCESS
    text = f"{done}: {report.sent}; gone: {len(report.gone)}; failed: {len(report.failed)}."
    if report.failed:
        first = report.failed[0]
        text += f" First failure: {first.connection_id}: {first.error}"
    modeladmin.message_user(request, text, level)


@admin.action(description=_("Send a test message"), permissions=["delete"])
def send_test_message(modeladmin: Any, request: HttpRequest, queryset: QuerySet) -> None:
    data = {"type": "apigw_ws.test", "sent_at": timezone.now(), "by": request.user.get_username()}
    try:
        report = send_to_sessions(queryset, data)
    except ApigwWsError as exc:
        modeladmin.message_user(request, str(exc), messages.ERROR)
        return
    _tell(modeladmin, request, "Sent", report)


@admin.action(description=_("Disconnect"), permissions=["delete"])
def disconnect(modeladmin: Any, request: HttpRequest, queryset: QuerySet) -> None:
    # The gateway answers DeleteConnection with a $disconnect, which marks each session.
    closing = list(recipients(queryset))
    report = get_sender().close(closing)
    mark_gone(report.gone)
    # Until its $disconnect arrives, no message of a closed connection is served from memory.
    forget([r.connection_id for r in closing])
    _tell(modeladmin, request, "Disconnected", report)
