"""Login binding: logout, a password change and deactivation end the user's connections.

Listing this plugin switches on what the Django app does
(``apigw_ws.contrib.django.login_binding``): on Django's ``user_logged_out`` signal, and
when a user row is saved with a new password hash or ``is_active`` turned off, every
connected session of that user is marked disconnected in one ``UPDATE`` (later messages
get 400 "Unknown connection") and, once the transaction commits, closed through the
Management API (``DeleteConnection``) so the browser sees the socket close.

The plugin implements no hook: the app's signal receivers are always connected and do
nothing while this module is not a loaded plugin.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # The names that lived here before the Django app took them: still importable from
    # here, and only once asked for, so importing this module loads no Django.
    if name == "lock_user":
        from apigw_ws.contrib.django.login_binding import lock_user

        return lock_user
    if name == "end_user_sessions":
        from apigw_ws.contrib.django.session_ending import end_user_sessions

        return end_user_sessions
    if name == "end_sessions":
        from apigw_ws.contrib.django.session_ending import end_sessions

        return end_sessions
    if name == "close_connections":
        from apigw_ws.contrib.django.session_ending import close_connections

        return close_connections
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
