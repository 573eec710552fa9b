"""The background fan-out task, on Django's Tasks framework.

``django.tasks`` on Django 6.0 and later, the ``django-tasks`` backport on 5.2: the
project's ``TASKS`` setting picks the backend (database, RQ, ...), and
``APIGW_WS["TASK_BACKEND"]`` the alias used. The task is created on first use, so that
importing this app never requires either. What the task does is
``apigw_ws.contrib.django.fanout``'s.
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


def _run_fanout(fanout_id: int, chunk_number: int | None = None) -> dict[str, Any]:
    """Send chunk ``chunk_number`` of fan-out ``fanout_id``, then any other; return the report."""
    from .fanout import run_fanout

    return run_fanout(fanout_id, chunk_number)


# Workers import a task by its function's path: ``run_fanout`` below resolves to the task.
_run_fanout.__name__ = _run_fanout.__qualname__ = "run_fanout"


@functools.cache
def run_fanout_task() -> Any:
    """Return the ``run_fanout`` task, made on first use.

    Made on ``TASK_BACKEND``, so that ``TASKS`` needs no ``"default"`` alias; callers
    pick the backend of each enqueue with ``.using()``.
    """
    from .conf import ws_settings

    return _task_decorator()(backend=ws_settings.TASK_BACKEND)(_run_fanout)


def __getattr__(name: str) -> Any:
    if name == "run_fanout":
        return run_fanout_task()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
