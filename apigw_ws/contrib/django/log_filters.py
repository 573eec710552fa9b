"""Logging filters for what Django logs about ``ws/`` requests before the view runs."""

from __future__ import annotations

from typing import Any


def not_ws_request(record: Any) -> bool:
    """Return ``False`` for a record about a request to a path containing ``/ws/``.

    For ``django.utils.log.CallbackFilter``: Django logs a bad ``Host`` header
    (``django.security.DisallowedHost``) at ERROR, which mails the admins, before the
    dispatch view can answer quietly. Any client can send one to ``ws/``.
    """
    request = getattr(record, "request", None)
    path = getattr(request, "path", "") or ""
    return "/ws/" not in path
