"""The background fan-out task, on Django's Tasks framework.

``django.tasks`` on Django 6.0 and later, the ``django-tasks`` backport on 5.2: the
project's ``TASKS`` setting picks the backend (database, Redis, ...), and
``APIGW_WS["TASK_BACKEND"]`` the alias used. The task is created on first use, so that
importing this app never requires either.
"""

from __future__ import annotations

import functools
from typing import Any

from apigw_ws.errors import ConfigurationError


def _task_decorator() -> Any:
    try:
        from django.tasks import task
    except ImportError:
        try:
            from django_tasks import task
        except ImportError:
            raise ConfigurationError(
                "background sends need Django's Tasks framework: Django 6.0 or later,"
                " or on Django 5.2 `pip install 'apigw-ws[tasks]'` (the django-tasks"
                " backport) and a TASKS setting"
            ) from None
    return task


def _send_chunk(session_ids: list[int], payload: str) -> dict[str, Any]:
    """Send ``payload`` to the connected sessions among ``session_ids``; return the report."""
    from .models import WebSocketSession
    from .sending import send_now

    sessions = WebSocketSession.objects.filter(pk__in=session_ids)
    return send_now(sessions, payload.encode()).as_dict()


# Workers import a task by its function's path: ``send_chunk`` below resolves to the task.
_send_chunk.__name__ = _send_chunk.__qualname__ = "send_chunk"


@functools.cache
def send_chunk_task() -> Any:
    """Return the ``send_chunk`` task, made on first use."""
    return _task_decorator()(_send_chunk)


def __getattr__(name: str) -> Any:
    if name == "send_chunk":
        return send_chunk_task()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
