"""System checks ``apigw_ws.E0xx`` (errors) and ``apigw_ws.W0xx`` (warnings).

| id | meaning |
| --- | --- |
| E001 | ``APIGW_WS`` is not a dict |
| E002 | a setting has the wrong type |
| E003, E004 | ``GATEWAY_SECRET`` is not a string/list, or too short |
| E005 | ``ALLOWED_ORIGINS`` has an entry that is not an origin |
| E010 | a plugin failed to load, implements an unknown hook, or registered a bad handler |
| E011 | handlers declare permissions, but no loaded plugin checks permissions |
| W011 | ``BLOCKED_PLUGINS`` names no plugin that was asked for |
| W001 | no ``GATEWAY_SECRET`` (deploy checks only) |
| W002 | unknown ``APIGW_WS`` key |
| W003 | ``ALLOWED_ORIGINS`` contains ``*`` |
| W004 | ``MAX_MESSAGE_BYTES`` above API Gateway's limit |
| E020 | a ``TOKENS`` value has the wrong type |
| W020, W021 | unknown ``TOKENS`` key; ``TOKENS["EXPIRY_SECONDS"]`` above 300 |
| E030, W030 | a ``RATE_LIMIT`` value is wrong; unknown ``RATE_LIMIT`` key |
| E031, W031 | a ``CHANNELS`` value is wrong; unknown ``CHANNELS`` key |
| E032 | ``RATE_LIMIT["CACHE_ALIAS"]`` names no cache in ``CACHES`` |
| W032 | the rate-limit cache cannot count across processes (dummy, local-memory, file, database) |
| E033, W033 | a ``RECOVERY`` value is wrong; unknown ``RECOVERY`` key |
| E034 | ``SESSION_CACHE`` names no cache in ``CACHES`` |
| W034 | the session cache cannot serve every process (dummy, local-memory, database) |
| E040 | ``AWS_ACCESS_KEY_ID`` without ``AWS_SECRET_ACCESS_KEY``, or the reverse |
| W040 | no AWS region in settings, environment or profile (deploy checks only) |
| W050 | the sessions' SQLite database lacks WAL, ``transaction_mode: IMMEDIATE`` or a timeout |
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

import attrs
from django.core.checks import Error, Tags, Warning, register
from django.core.signals import setting_changed

from apigw_ws.protocol import MAX_MESSAGE_BYTES
from apigw_ws.validation import parse_allowed_origin, secrets_problem

from .conf import DEFAULTS, SETTING_NAME, ws_settings
from .runtime import get_plugins

ID_PREFIX = "apigw_ws"

# -- validating APIGW_WS: E001-E005, W002-W004, E020/W020/W021, E030/W030, E031/W031, E033/W033

MIN_SECRET_LENGTH = 32
AWS_MAX_MESSAGE_BYTES = MAX_MESSAGE_BYTES


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


_validated: tuple[Any, list[Problem]] | None = None


def settings_problems() -> list[Problem]:
    """Return ``validate()`` of the ``APIGW_WS`` setting, computed once per setting value.

    Every check below asks; without this the setting was validated once per check.
    """
    global _validated
    user = ws_settings.user_settings
    if _validated is None or _validated[0] is not user:
        _validated = (user, validate(user))
    return _validated[1]


def settings_are_broken() -> bool:
    """Return whether ``APIGW_WS`` has an error: the checks that read it then stay quiet."""
    return any(not problem.warning for problem in settings_problems())


def _forget_validation(*, setting: str, **kwargs: Any) -> None:
    global _validated
    if setting == SETTING_NAME:
        _validated = None


setting_changed.connect(_forget_validation)


def _message(problem: Problem) -> Any:
    kind = Warning if problem.warning else Error
    return kind(problem.msg, hint=problem.hint or None, id=f"{ID_PREFIX}.{problem.id}")


@register(Tags.compatibility)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Validate ``APIGW_WS``."""
    return [_message(p) for p in settings_problems()]


@register()
def check_plugins(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Report every plugin that failed to load or registered something invalid."""
    if settings_are_broken():
        return []  # the settings errors say it already; loading would repeat them
    return [
        Error(
            f"apigw_ws plugin {problem.plugin!r} {problem.message}",
            hint="Fix or uninstall the plugin, or add its name to APIGW_WS['BLOCKED_PLUGINS'].",
            obj=problem.plugin,
            id=f"{ID_PREFIX}.E010",
        )
        for problem in get_plugins().problems
    ]


@register()
def check_blocked_plugins(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Warn about a ``BLOCKED_PLUGINS`` name that blocks nothing (usually a typo)."""
    if settings_are_broken():
        return []
    plugins = get_plugins()
    known = {info.name for info in plugins.infos}
    return [
        Warning(
            f"APIGW_WS['BLOCKED_PLUGINS'] names {name!r}, which is no plugin: it blocks nothing",
            hint=did_you_mean(name, known) or "'manage.py ws_plugins' lists the plugins' names.",
            id=f"{ID_PREFIX}.W011",
        )
        for name in ws_settings.BLOCKED_PLUGINS
        if name not in known
    ]


@register(Tags.security)
def check_permissions_are_checked(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Refuse handlers that declare permissions when nothing would check them."""
    if settings_are_broken() or ws_settings.ALLOW_UNCHECKED_PERMISSIONS:
        return []
    plugins = get_plugins()
    if plugins.problems or plugins.hook.apigw_ws_check_permission.get_hookimpls():
        return []  # with E010, the plugin that failed may be the one that checks
    guarded = sorted(
        f"{h.route}:{h.name}" for h in plugins.registry if h.permissions or h.all_permissions
    )
    if not guarded:
        return []
    return [
        Error(
            f"Handlers declare permissions, but no loaded plugin implements"
            f" apigw_ws_check_permission: {', '.join(guarded[:5])}"
            f"{' ...' if len(guarded) > 5 else ''} would run for anyone",
            hint="Add 'apigw_ws.builtin_plugins.permissions' to APIGW_WS['PLUGINS'], or set"
            " APIGW_WS['ALLOW_UNCHECKED_PERMISSIONS'] = True if that is what you want.",
            id=f"{ID_PREFIX}.E011",
        )
    ]


@register(Tags.security, deploy=True)
def check_secret_deploy(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Warn when requests are not authenticated with a gateway secret."""
    if ws_settings.secrets or ws_settings.GATEWAY_SECRET is not None:
        return []  # set, or set wrong: E003 says so
    return [
        Warning(
            "APIGW_WS['GATEWAY_SECRET'] is not set: anyone who can reach the ws/ URLs can"
            " forge API Gateway requests, and act as any connected user.",
            hint="Set a secret of 32+ characters, then run 'manage.py ws_gateway apply' (or the"
            " admin action 'Apply') for each gateway: it sets the X-Apigw-Ws-Secret header on"
            " every integration and redeploys the stage.",
            id=f"{ID_PREFIX}.W001",
        )
    ]


@register(Tags.compatibility)
def check_aws_credentials(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Refuse half-set explicit AWS keys."""
    if settings_are_broken():
        return []  # the settings errors say it already
    if bool(ws_settings.AWS_ACCESS_KEY_ID) == bool(ws_settings.AWS_SECRET_ACCESS_KEY):
        return []
    return [
        Error(
            "APIGW_WS needs both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither",
            hint="Prefer AWS_PROFILE or an IAM role; explicit keys are the last resort.",
            id=f"{ID_PREFIX}.E040",
        )
    ]


# Deploy-only: development against ws_devgateway often runs without AWS configuration.
@register(Tags.compatibility, deploy=True)
def check_aws_region(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Warn when no region is found in settings, environment or profile."""
    from apigw_ws.provisioning.clients import resolve_region

    if settings_are_broken():
        return []  # the settings errors say it already
    if resolve_region(ws_settings.REGION, profile=ws_settings.AWS_PROFILE):
        return []
    return [
        Warning(
            "No AWS region found: provisioning and sending to a gateway without its own"
            " region will fail.",
            hint="Set APIGW_WS['REGION'], the AWS_REGION environment variable, a region in"
            " the AWS profile, or the region of each ApiGateway row.",
            id=f"{ID_PREFIX}.W040",
        )
    ]


#: Cache backends whose counters are not shared by all processes, or not atomic.
_WEAK_COUNTING_CACHES = {
    "django.core.cache.backends.dummy.DummyCache": "never stores anything",
    "django.core.cache.backends.locmem.LocMemCache": "counts per process",
    "django.core.cache.backends.filebased.FileBasedCache": "increments without a lock",
    "django.core.cache.backends.db.DatabaseCache": "increments without a lock",
}


@register(Tags.caches)
def check_rate_limit_cache(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Check that a ``cache`` rate-limit store has a cache that can count for every process."""
    from django.conf import settings

    options = ws_settings.RATE_LIMIT
    if not isinstance(options, dict) or options.get("STORE") != "cache":
        return []
    alias = options.get("CACHE_ALIAS")
    backend = settings.CACHES.get(alias, {}).get("BACKEND") if isinstance(alias, str) else None
    if backend is None:
        return [
            Error(
                f"APIGW_WS['RATE_LIMIT']['CACHE_ALIAS'] is {alias!r}, which is not in CACHES",
                id=f"{ID_PREFIX}.E032",
            )
        ]
    if backend in _WEAK_COUNTING_CACHES:
        return [
            Warning(
                f"The rate-limit cache {alias!r} {_WEAK_COUNTING_CACHES[backend]}: connect"
                " limits will not hold across processes",
                hint="Use Redis (django.core.cache.backends.redis.RedisCache) or Memcached,"
                " or RATE_LIMIT['STORE'] = 'database'.",
                id=f"{ID_PREFIX}.W032",
            )
        ]
    return []


#: What a SQLite database needs so that concurrent connects wait for the lock, not fail.
SQLITE_OPTIONS_HINT = (
    'Add "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL", "transaction_mode":'
    ' "IMMEDIATE", "timeout": 20} to the database (see docs/troubleshooting).'
)


def sqlite_lacks(database: dict[str, Any]) -> list[str]:
    """Return what a SQLite ``DATABASES`` entry lacks for concurrent writers; ``[]`` if nothing."""
    if not str(database.get("ENGINE", "")).endswith("sqlite3"):
        return []
    options = database.get("OPTIONS") or {}
    init = str(options.get("init_command", "")).lower().replace(" ", "")
    missing = []
    if "journal_mode=wal" not in init:
        missing.append("WAL (init_command 'PRAGMA journal_mode=WAL')")
    if str(options.get("transaction_mode", "")).upper() not in ("IMMEDIATE", "EXCLUSIVE"):
        missing.append("transaction_mode 'IMMEDIATE'")
    if "timeout" not in options:
        missing.append("a busy timeout ('timeout')")
    return missing


@register(Tags.compatibility)  # reads settings only: runs in every `check`, runserver included
def check_sqlite_concurrency(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Warn when the sessions' SQLite database would answer concurrent connects with locks."""
    from django.db import connections, router

    from .models import WebSocketSession

    alias = router.db_for_write(WebSocketSession)
    missing = sqlite_lacks(connections.settings[alias])
    if not missing:
        return []
    return [
        Warning(
            f"The SQLite database {alias!r} lacks {', '.join(missing)}: concurrent connects"
            " fail with 'database is locked' (answered 503 after retries).",
            hint=SQLITE_OPTIONS_HINT,
            id=f"{ID_PREFIX}.W050",
        )
    ]


#: Session caches that cannot do the job: invalidations must reach every process.
_WEAK_SESSION_CACHES = {
    "django.core.cache.backends.dummy.DummyCache": "never stores anything: every message"
    " reads the database",
    "django.core.cache.backends.locmem.LocMemCache": "is per process: a change made in one"
    " process (a logout, a revoked permission, a new channel) is not seen by the others",
    "django.core.cache.backends.db.DatabaseCache": "is a database table: every message"
    " still costs a query",
}


@register(Tags.caches)
def check_session_cache(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Check that ``SESSION_CACHE`` names a cache that every process shares."""
    from django.conf import settings

    alias = ws_settings.SESSION_CACHE
    if not isinstance(alias, str) or not alias:
        return []  # None (no cache), or E002 already
    backend = settings.CACHES.get(alias, {}).get("BACKEND")
    if backend is None:
        return [
            Error(
                f"APIGW_WS['SESSION_CACHE'] is {alias!r}, which is not in CACHES",
                id=f"{ID_PREFIX}.E034",
            )
        ]
    if backend in _WEAK_SESSION_CACHES:
        return [
            Warning(
                f"The session cache {alias!r} {_WEAK_SESSION_CACHES[backend]}",
                hint="Use Redis (django.core.cache.backends.redis.RedisCache) or Memcached,"
                " or SESSION_CACHE = None.",
                id=f"{ID_PREFIX}.W034",
            )
        ]
    return []
