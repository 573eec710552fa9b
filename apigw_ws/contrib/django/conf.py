"""``APIGW_WS`` settings: defaults, validation and reload on ``setting_changed``."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Mapping
from typing import Any

import attrs
from django.conf import settings
from django.core.signals import setting_changed

from apigw_ws.plugins import DEFAULT_PLUGINS
from apigw_ws.protocol import MAX_MESSAGE_BYTES as AWS_MAX_MESSAGE_BYTES
from apigw_ws.validation import parse_allowed_origin, secrets_problem

logger = logging.getLogger(__name__)

SETTING_NAME = "APIGW_WS"

DEFAULTS: dict[str, Any] = {
    "PLUGINS": list(DEFAULT_PLUGINS),
    "BLOCKED_PLUGINS": [],
    "LOAD_ENTRY_POINTS": True,
    "HANDLER_KEY": "handler",
    "MAX_MESSAGE_BYTES": AWS_MAX_MESSAGE_BYTES,
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

MIN_SECRET_LENGTH = 32


@attrs.frozen
class Problem:
    """One thing wrong with the settings, turned into a system-check message."""

    id: str
    msg: str
    hint: str = ""
    warning: bool = False


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list | tuple) and all(isinstance(v, str) and v for v in value)


def _is_positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _check_secret(value: Any) -> list[Problem]:
    problem = secrets_problem(value)
    if problem:
        return [
            Problem(
                "E003",
                f"GATEWAY_SECRET {problem}: every ws/ request is refused (403) until it is fixed",
                hint="A string, or a non-empty list of non-empty strings. A rotation written as"
                " [os.environ.get('NEW', ''), OLD] needs the variable set, or a None filtered out.",
            )
        ]
    if value is None:
        return []
    secrets = [value] if isinstance(value, str) else value
    short = [i for i, s in enumerate(secrets) if len(s) < MIN_SECRET_LENGTH]
    if short:
        return [
            Problem(
                "E004",
                f"GATEWAY_SECRET entries must be at least {MIN_SECRET_LENGTH} characters",
                hint="Generate one: python -c 'import secrets; print(secrets.token_urlsafe(32))'",
            )
        ]
    return []


def _check_origins(value: Any) -> list[Problem]:
    if value is None:
        return []
    if not _is_str_list(value):
        return [
            Problem(
                "E005", "ALLOWED_ORIGINS must be a list of origins such as 'https://example.com'"
            )
        ]
    bad = [v for v in value if v != "*" and parse_allowed_origin(v) is None]
    if bad:
        return [
            Problem(
                "E005",
                f"ALLOWED_ORIGINS has entries that are not origins: {bad}",
                hint="Use 'scheme://host[:port]', 'https://*.example.com' for subdomains, or '*'.",
            )
        ]
    if "*" in value:
        return [
            Problem("W003", "ALLOWED_ORIGINS contains '*': any web page may connect", warning=True)
        ]
    return []


#: Tokens that live longer than this are warning W021: a token is fetched just before use.
MAX_SENSIBLE_TOKEN_EXPIRY = 300

_TOKEN_TYPES: dict[str, tuple[Any, str]] = {
    "EXPIRY_SECONDS": (_is_positive_int, "a positive integer"),
    "MAX_PER_MINUTE": (_is_positive_int, "a positive integer"),
    "REQUIRED": (lambda v: isinstance(v, bool), "True or False"),
    "BIND_SESSION": (lambda v: isinstance(v, bool), "True or False"),
}


def _check_tokens(value: Any) -> list[Problem]:
    problems = _check_options("TOKENS", value, _TOKEN_TYPES, "020")
    if not isinstance(value, Mapping):
        return problems
    expiry = value.get("EXPIRY_SECONDS")
    if _is_positive_int(expiry) and expiry > MAX_SENSIBLE_TOKEN_EXPIRY:
        problems.append(
            Problem(
                "W021",
                f"TOKENS['EXPIRY_SECONDS'] is {expiry}: a leaked token stays usable that long",
                hint="Pages fetch a token right before connecting; 60 seconds is plenty.",
                warning=True,
            )
        )
    return problems


_RATE_LIMIT_TYPES: dict[str, tuple[Any, str]] = {
    "STORE": (lambda v: v in ("database", "cache"), "'database' or 'cache'"),
    "MAX_ATTEMPTS": (_is_positive_int, "a positive integer"),
    "WINDOW_SECONDS": (_is_positive_int, "a positive integer"),
    "CACHE_ALIAS": (lambda v: isinstance(v, str) and v != "", "a CACHES alias"),
}

_RECOVERY_TYPES: dict[str, tuple[Any, str]] = {
    "STORE": (lambda v: v in ("database", "cache"), "'database' or 'cache'"),
    "MAX_MESSAGES": (_is_positive_int, "a positive integer"),
    "MAX_AGE_SECONDS": (_is_positive_int, "a positive integer"),
    "CACHE_ALIAS": (lambda v: isinstance(v, str) and v != "", "a CACHES alias"),
}

_CHANNELS_TYPES: dict[str, tuple[Any, str]] = {
    "ALLOW_UNLISTED": (lambda v: isinstance(v, bool), "True or False"),
}


def _check_options(
    name: str, value: Any, types: dict[str, tuple[Any, str]], number: str
) -> list[Problem]:
    """Check the inner keys of a dict setting: unknown ones warn, wrong types are errors."""
    if not isinstance(value, Mapping):
        return []  # E002 already
    problems = [
        Problem("W" + number, f"{name} has an unknown key {key!r}", warning=True)
        for key in value
        if key not in types
    ]
    for key, (ok, wanted) in types.items():
        if key in value and not ok(value[key]):
            problems.append(
                Problem("E" + number, f"{name}[{key!r}] must be {wanted}, got {value[key]!r}")
            )
    return problems


_TYPES: dict[str, tuple[Any, str]] = {
    "PLUGINS": (_is_str_list, "a list of dotted module paths"),
    "BLOCKED_PLUGINS": (_is_str_list, "a list of plugin names"),
    "LOAD_ENTRY_POINTS": (lambda v: isinstance(v, bool), "True or False"),
    "HANDLER_KEY": (lambda v: isinstance(v, str) and v != "", "a non-empty string"),
    "MAX_MESSAGE_BYTES": (_is_positive_int, "a positive integer"),
    "REGION": (lambda v: v is None or isinstance(v, str), "a region name or None"),
    "ENDPOINT_URL": (lambda v: v is None or isinstance(v, str), "a URL or None"),
    "AWS_PROFILE": (lambda v: v is None or isinstance(v, str), "a profile name or None"),
    "AWS_ACCESS_KEY_ID": (lambda v: v is None or isinstance(v, str), "a string or None"),
    "AWS_SECRET_ACCESS_KEY": (lambda v: v is None or isinstance(v, str), "a string or None"),
    "AWS_SESSION_TOKEN": (lambda v: v is None or isinstance(v, str), "a string or None"),
    "SEND_CONCURRENCY": (_is_positive_int, "a positive integer"),
    "SEND_TRANSPORT": (
        lambda v: v in (None, "aiohttp", "boto3", "auto"),
        "None (the default, aiohttp) or 'boto3'",
    ),
    "SEND_RATE_LIMIT": (
        lambda v: v is None or _is_positive_int(v),
        "a positive integer (requests a second) or None (no limit)",
    ),
    "TASK_BACKEND": (lambda v: isinstance(v, str) and v != "", "a TASKS backend alias"),
    "FANOUT_LEASE_SECONDS": (
        lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v > 0,
        "a number of seconds above 0",
    ),
    "GATEWAY_CACHE_SECONDS": (lambda v: isinstance(v, int) and v >= 0, "an integer >= 0"),
    "TOKENS": (lambda v: isinstance(v, Mapping), "a dict"),
    "RATE_LIMIT": (lambda v: isinstance(v, Mapping), "a dict"),
    "CHANNELS": (lambda v: isinstance(v, Mapping), "a dict"),
    "RECOVERY": (lambda v: isinstance(v, Mapping), "a dict"),
    "ALLOW_UNCHECKED_PERMISSIONS": (lambda v: isinstance(v, bool), "True or False"),
    "SESSION_CACHE": (
        lambda v: v is None or (isinstance(v, str) and v != ""),
        "a CACHES alias or None",
    ),
    "SESSION_CACHE_LOCAL_ENTRIES": (
        lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
        "an integer >= 0",
    ),
}


def did_you_mean(name: Any, candidates: Any) -> str:
    """Return "Did you mean 'X'?" for the candidate closest to ``name``, or ``""``."""
    close = difflib.get_close_matches(str(name), [str(c) for c in candidates], n=1, cutoff=0.6)
    return f"Did you mean {close[0]!r}?" if close else ""


def _known(key: Any) -> str:
    return did_you_mean(key, DEFAULTS) or f"Known keys: {', '.join(sorted(DEFAULTS))}."


def validate(user: Any) -> list[Problem]:
    """Return every problem with the ``APIGW_WS`` setting ``user``."""
    if not isinstance(user, Mapping):
        return [Problem("E001", f"{SETTING_NAME} must be a dict, not {type(user).__name__}")]
    problems = [
        Problem(
            "W002", f"{SETTING_NAME} has an unknown key {key!r}", hint=_known(key), warning=True
        )
        for key in user
        if key not in DEFAULTS
    ]
    for key, (ok, wanted) in _TYPES.items():
        if key in user and not ok(user[key]):
            problems.append(
                Problem("E002", f"{SETTING_NAME}[{key!r}] must be {wanted}, got {user[key]!r}")
            )
    if (
        _is_positive_int(user.get("MAX_MESSAGE_BYTES"))
        and user["MAX_MESSAGE_BYTES"] > AWS_MAX_MESSAGE_BYTES
    ):
        problems.append(
            Problem(
                "W004",
                f"MAX_MESSAGE_BYTES is above API Gateway's limit of {AWS_MAX_MESSAGE_BYTES} bytes",
                warning=True,
            )
        )
    problems += _check_secret(user.get("GATEWAY_SECRET"))
    problems += _check_origins(user.get("ALLOWED_ORIGINS"))
    problems += _check_tokens(user.get("TOKENS"))
    problems += _check_options("RATE_LIMIT", user.get("RATE_LIMIT"), _RATE_LIMIT_TYPES, "030")
    problems += _check_options("CHANNELS", user.get("CHANNELS"), _CHANNELS_TYPES, "031")
    problems += _check_options("RECOVERY", user.get("RECOVERY"), _RECOVERY_TYPES, "033")
    return problems


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
        from . import runtime

        ws_settings.reload()
        runtime.reset()


setting_changed.connect(_on_setting_changed)
