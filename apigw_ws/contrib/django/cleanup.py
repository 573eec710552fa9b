"""What ``manage.py ws_cleanup`` deletes: one function per table that only grows.

Each entry is ``(name, dotted path of a function)``; the function takes no argument,
deletes what has expired and returns how many rows it deleted. Add a table with one line.
"""

from __future__ import annotations

from django.utils.module_loading import import_string

CLEANUPS: tuple[tuple[str, str], ...] = (
    ("tokens", "apigw_ws.contrib.django.token_backend.delete_expired_tokens"),
    ("rate_limits", "apigw_ws.contrib.django.ratelimit_stores.prune_counters"),
    ("fanouts", "apigw_ws.contrib.django.fanout.delete_finished_fanouts"),
    # Not deleted but ended: sessions whose Django login session expired or was deleted.
    ("login_sessions", "apigw_ws.contrib.django.token_backend.end_sessions_without_login"),
)


def run_cleanups(names: tuple[str, ...] = ()) -> dict[str, int]:
    """Run the cleanups named in ``names`` (all when empty); return the rows each deleted."""
    return {name: import_string(path)() for name, path in CLEANUPS if not names or name in names}
