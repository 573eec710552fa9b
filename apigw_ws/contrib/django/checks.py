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

from typing import Any

from django.core.checks import Error, Tags, Warning, register

from . import conf
from .runtime import get_plugins

ID_PREFIX = "apigw_ws"


def _message(problem: conf.Problem) -> Any:
    kind = Warning if problem.warning else Error
    return kind(problem.msg, hint=problem.hint or None, id=f"{ID_PREFIX}.{problem.id}")


@register(Tags.compatibility)
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Validate ``APIGW_WS``."""
    return [_message(p) for p in conf.validate(conf.ws_settings.user_settings)]


@register()
def check_plugins(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Report every plugin that failed to load or registered something invalid."""
    if any(not p.warning for p in conf.validate(conf.ws_settings.user_settings)):
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
    if any(not p.warning for p in conf.validate(conf.ws_settings.user_settings)):
        return []
    plugins = get_plugins()
    known = {info.name for info in plugins.infos}
    return [
        Warning(
            f"APIGW_WS['BLOCKED_PLUGINS'] names {name!r}, which is no plugin: it blocks nothing",
            hint=conf.did_you_mean(name, known)
            or "'manage.py ws_plugins' lists the plugins' names.",
            id=f"{ID_PREFIX}.W011",
        )
        for name in conf.ws_settings.BLOCKED_PLUGINS
        if name not in known
    ]


@register(Tags.security)
def check_permissions_are_checked(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Refuse handlers that declare permissions when nothing would check them."""
    settings = conf.ws_settings
    if any(not p.warning for p in conf.validate(settings.user_settings)):
        return []
    if settings.ALLOW_UNCHECKED_PERMISSIONS:
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
    if conf.ws_settings.secrets or conf.ws_settings.GATEWAY_SECRET is not None:
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
    settings = conf.ws_settings
    if any(not p.warning for p in conf.validate(settings.user_settings)):
        return []  # the settings errors say it already
    if bool(settings.AWS_ACCESS_KEY_ID) == bool(settings.AWS_SECRET_ACCESS_KEY):
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

    settings = conf.ws_settings
    if any(not p.warning for p in conf.validate(settings.user_settings)):
        return []  # the settings errors say it already
    if resolve_region(settings.REGION, profile=settings.AWS_PROFILE):
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

    options = conf.ws_settings.RATE_LIMIT
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

    alias = conf.ws_settings.SESSION_CACHE
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
