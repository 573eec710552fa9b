"""The ``APIGW_WS`` settings object: defaults, reading, caching, reload on ``setting_changed``.

As DRF's ``settings.py``: ``ws_settings.NAME`` is the user's value merged over
``DEFAULTS``. Validating the values is the system checks' job (``checks.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

from apigw_ws.plugins import DEFAULT_PLUGINS
from apigw_ws.protocol import MAX_MESSAGE_BYTES
from apigw_ws.validation import secrets_problem

logger = logging.getLogger(__name__)

SETTING_NAME = "APIGW_WS"

DEFAULTS: dict[str, Any] = {
    "PLUGINS": list(DEFAULT_PLUGINS),
    "BLOCKED_PLUGINS": [],
    "LOAD_ENTRY_POINTS": True,
    "HANDLER_KEY": "handler",
    "MAX_MESSAGE_BYTES": MAX_MESSAGE_BYTES,
    "REGION": None,
    "ENDPOINT_URL": None,
    "AWS_PROFILE": None,
    "AWS_ACCESS_KEY_ID": None,
    "AWS_SECRET_ACCESS_KEY": None,
    "AWS_SESSION_TOKEN": None,
    "SEND_CONCURRENCY": 128,
    "SEND_TRANSPORT": None,
    "SEND_RATE_LIMIT": 5000,
    "TASK_BACKEND": "default",
    "FANOUT_LEASE_SECONDS": 20,
    "GATEWAY_SECRET": None,
    "ALLOWED_ORIGINS": None,
    "GATEWAY_CACHE_SECONDS": 60,
    "TOKENS": {"EXPIRY_SECONDS": 60, "MAX_PER_MINUTE": 20, "REQUIRED": True, "BIND_SESSION": True},
    "RATE_LIMIT": {
        "STORE": "database",
        "MAX_ATTEMPTS": 20,
        "WINDOW_SECONDS": 60,
        "CACHE_ALIAS": "default",
    },
    "CHANNELS": {"ALLOW_UNLISTED": True},
    "RECOVERY": {
        "STORE": "database",
        "MAX_MESSAGES": 100,
        "MAX_AGE_SECONDS": 300,
        "CACHE_ALIAS": "default",
    },
    "ALLOW_UNCHECKED_PERMISSIONS": False,
    "SESSION_CACHE": None,
    "SESSION_CACHE_LOCAL_ENTRIES": 10000,
}


class WsSettings:
    """Attribute access to ``APIGW_WS`` with defaults; dict values merge over the defaults."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}

    @property
    def user_settings(self) -> Any:
        return getattr(settings, SETTING_NAME, {})

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"unknown {SETTING_NAME} setting {name!r}")
        if name not in self._cache:
            user = self.user_settings if isinstance(self.user_settings, Mapping) else {}
            value = user.get(name, DEFAULTS[name])
            if isinstance(DEFAULTS[name], dict) and isinstance(value, Mapping):
                value = {**DEFAULTS[name], **value}
            self._cache[name] = value
        # Kept as an instance attribute too: the next read is a plain attribute lookup,
        # not a call of __getattr__ (the message path reads several settings).
        self.__dict__[name] = self._cache[name]
        return self._cache[name]

    @property
    def secrets(self) -> tuple[str, ...]:
        """Return the usable gateway secrets, newest first; empty if none is set.

        Empty and non-string entries are left out here (provisioning, redaction); the
        requests themselves are refused while any is configured: see ``secret_problem``.
        """
        if "_secrets" not in self._cache:
            value = self.GATEWAY_SECRET
            entries = (value,) if isinstance(value, str) else value
            if not isinstance(entries, list | tuple):
                entries = ()
            self._cache["_secrets"] = tuple(
                entry for entry in entries if isinstance(entry, str) and entry
            )
        return self._cache["_secrets"]

    @property
    def secret_problem(self) -> str:
        """Return why ``GATEWAY_SECRET`` cannot authenticate requests, or ``""``.

        Logged once (an ERROR) when first asked for, i.e. at the first request: servers
        such as gunicorn never run the system checks that report it as E003.
        """
        if "_secret_problem" not in self._cache:
            problem = secrets_problem(self.GATEWAY_SECRET)
            if problem:
                logger.error(
                    "apigw_ws: APIGW_WS['GATEWAY_SECRET'] %s: every ws/ request is refused"
                    " with 403 until it is fixed (system check apigw_ws.E003)",
                    problem,
                )
            self._cache["_secret_problem"] = problem
        return self._cache["_secret_problem"]

    def reload(self) -> None:
        self._cache.clear()
        for name in DEFAULTS:
            self.__dict__.pop(name, None)


ws_settings = WsSettings()


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTING_NAME:
        ws_settings.reload()


setting_changed.connect(_on_setting_changed)
