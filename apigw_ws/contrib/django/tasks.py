"""The background fan-out task's import path, on Django's Tasks framework.

``django.tasks`` on Django 6.0 and later, the ``django-tasks`` backport on 5.2: the
project's ``TASKS`` setting picks the backend (database, RQ, ...), and
``APIGW_WS["TASK_BACKEND"]`` the alias used. Workers import the task by its path,
``apigw_ws.contrib.django.tasks.run_fanout``, which this module resolves. The task is
created on first use, so that importing this app never requires either; it is made,
and what it does is, in ``apigw_ws.contrib.django.fanout``.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "run_fanout":
        from .fanout import run_fanout_task

        return run_fanout_task()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
