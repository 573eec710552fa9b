"""What both sides of the benchmark share: settings, the bare view, requests, timing.

Imported by ``run.py`` (our venv) and by ``incumbent.py`` (the incumbent's venv), so it
uses nothing but the standard library and Django, and imports Django lazily.

Every contender is driven the same way: one prepared WSGI ``environ`` per contender,
copied per message with a fresh ``wsgi.input``, passed to Django's ``WSGIHandler``, and
the response iterated and closed (which sends ``request_finished``), exactly as a WSGI
server would, minus the socket.
"""

from __future__ import annotations

import cProfile
import gc
import io
import json
import pstats
import statistics
import sys
import time
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any

# --- the fixture every contender gets ---------------------------------------------------

API_ID = "bench0api1"
CONNECTION_ID = "L0SM9cOFvHcCIhw="  # shaped like API Gateway's
SOURCE_IP = "203.0.113.7"
USERNAME = "bench-user"
# Both projects check this secret on every request (constant-time compare).
GATEWAY_SECRET = "benchmark-gateway-secret-0123456789abcdef"
# The message: names its handler, as the incumbent requires.
MESSAGE = {"handler": "echo", "text": "hello"}
BODY = json.dumps(MESSAGE).encode()
# What the echo handlers answer (the bare view answers without "user").
ECHO_REPLY = {"echo": MESSAGE, "user": USERNAME}
BARE_REPLY = {"echo": MESSAGE}
# Our permission-guarded echo: the user may view users through a group.
GUARDED_MESSAGE = {"handler": "guarded_echo", "text": "hello"}
GUARDED_REPLY = {"echo": GUARDED_MESSAGE, "user": USERNAME}
GUARDED_PERMISSION = "auth.view_user"

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

URLCONF = "bench_urls"  # a module made at run time by set_urlpatterns()

PG = {"HOST": "127.0.0.1", "PORT": "5432", "USER": "postgres"}


class BenchError(RuntimeError):
    """A contender answered wrongly: the figures would be meaningless."""


# --- Django set-up ------------------------------------------------------------------------


#: The database set-ups a contender is measured on: (engine, CONN_MAX_AGE).
#: ``sqlite`` is a database *file* on disk (Django's default engine and journal mode):
#: there a write is a commit. ``memory`` (in-memory SQLite) is never a headline figure.
SETUPS = {
    "sqlite": ("sqlite", None),
    "sqlite-cma0": ("sqlite", 0),
    "postgresql": ("postgresql", None),
    "memory": ("memory", None),
}


def database(setup: str, *, pg_name: str = "", sqlite_path: str = "") -> dict[str, Any]:
    """The ``default`` database of a set-up (see ``SETUPS``).

    ``CONN_MAX_AGE=None`` keeps one connection for the whole run, so that no contender
    pays a connect per message; ``sqlite-cma0`` is Django's default, ``CONN_MAX_AGE=0``:
    a connection per request.
    """
    engine, conn_max_age = SETUPS[setup]
    if engine == "memory":
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
    if engine == "sqlite":
        if not sqlite_path:
            raise ValueError("a SQLite file set-up needs sqlite_path")
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": sqlite_path,
            "CONN_MAX_AGE": conn_max_age,
        }
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": pg_name,
        "CONN_MAX_AGE": conn_max_age,
        **PG,
    }


def configure(databases: dict[str, Any], apps: Iterable[str], **extra: Any) -> None:
    """Configure and set up Django the same way for every contender, then migrate."""
    import django
    from django.conf import settings
    from django.core.management import call_command

    settings.configure(
        DEBUG=False,
        SECRET_KEY="benchmark-only-not-secret",
        ALLOWED_HOSTS=["*"],
        USE_TZ=True,
        ROOT_URLCONF=URLCONF,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            *apps,
        ],
        MIDDLEWARE=MIDDLEWARE,
        DATABASES={"default": databases},
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        LOGGING_CONFIG=None,  # quiet: nothing is logged on the happy path anyway
        **extra,
    )
    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def bare_view(request: Any, route: str) -> Any:
    """The baseline: a plain Django view that parses the JSON body and echoes it."""
    from django.http import JsonResponse

    return JsonResponse({"echo": json.loads(request.body)})


def set_urlpatterns(patterns: list[Any]) -> None:
    """Make ``ROOT_URLCONF`` a module holding ``patterns`` plus ``bare/<route>``."""
    from django.urls import path
    from django.views.decorators.csrf import csrf_exempt

    module = types.ModuleType(URLCONF)
    module.urlpatterns = [*patterns, path("bare/<str:route>", csrf_exempt(bare_view))]
    sys.modules[URLCONF] = module


def create_user() -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(USERNAME, password="bench-password")


def grant_through_group(user: Any, permission: str = GUARDED_PERMISSION) -> None:
    """Give ``user`` ``permission`` through a group, as projects usually do."""
    from django.contrib.auth.models import Group, Permission

    app_label, codename = permission.split(".")
    group = Group.objects.create(name="bench-moderators")
    group.permissions.add(
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
    )
    user.groups.add(group)


# --- requests -----------------------------------------------------------------------------


def wsgi_environ(path: str, headers: Mapping[str, str], body: bytes = BODY) -> dict[str, Any]:
    """A WSGI environ for ``POST path`` with ``headers`` (HTTP names) and ``body``."""
    environ: dict[str, Any] = {
        "bench.body": body,
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "backend.example.com",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.10",  # the load balancer / proxy in front of Django
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "https",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    return environ


def send(handler: Callable[..., Any], environ: Mapping[str, Any]) -> tuple[str, bytes]:
    """Pass one request to ``handler`` as a WSGI server would; return (status, body)."""
    env = dict(environ)
    env["wsgi.input"] = io.BytesIO(env["bench.body"])
    status: list[str] = []

    def start_response(s: str, _headers: Any, _exc_info: Any = None) -> Any:
        status.append(s)

    result = handler(env, start_response)
    try:
        content = b"".join(result)
    finally:
        result.close()  # sends request_finished, like every WSGI server
    return status[0], content


def check_reply(handler: Callable[..., Any], environ: Mapping[str, Any], expected: Any) -> None:
    """Raise ``BenchError`` unless one message gets ``200`` and the ``expected`` JSON."""
    status, content = send(handler, environ)
    try:
        data = json.loads(content)
    except ValueError:
        data = content[:300]
    if not status.startswith("200") or data != expected:
        raise BenchError(f"{environ['PATH_INFO']}: expected 200 {expected}, got {status} {data!r}")


# --- figures ------------------------------------------------------------------------------


def count_queries(
    handler: Callable[..., Any], environ: Mapping[str, Any], samples: int = 5
) -> dict[str, Any]:
    """SQL statements per message, split into reads (``SELECT``) and writes (the rest).

    Counted by ``CaptureQueriesContext`` around each request. ``request_started`` runs
    ``reset_queries()``, which would corrupt a count spanning requests, so each message is
    captured on its own, starting from an empty log.
    """
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    counts, sql = [], []
    for _ in range(samples):
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            status, _ = send(handler, environ)
        if not status.startswith("200"):
            raise BenchError(f"{environ['PATH_INFO']}: {status} while counting queries")
        sql = [q["sql"] for q in ctx.captured_queries]
        reads = sum(q.lstrip().upper().startswith("SELECT") for q in sql)
        counts.append((reads, len(sql) - reads))
    if len(set(counts)) != 1:
        raise BenchError(f"{environ['PATH_INFO']}: query count varies between messages: {counts}")
    return {"reads": counts[0][0], "writes": counts[0][1], "sql": sql}


def _round(handler: Callable[..., Any], environ: Mapping[str, Any], messages: int) -> float:
    """Time ``messages`` messages; return messages per second."""
    gc.collect()
    failed = 0
    start = time.perf_counter()
    for _ in range(messages):
        status, _ = send(handler, environ)
        failed += not status.startswith("200")
    elapsed = time.perf_counter() - start
    if failed:
        raise BenchError(f"{environ['PATH_INFO']}: {failed} of {messages} messages failed")
    return messages / elapsed


def contenders(
    handler: Callable[..., Any],
    entrants: Mapping[str, tuple[Mapping[str, Any], Any]],
    *,
    rounds: int,
    messages: int,
    warmup: int,
) -> dict[str, dict[str, Any]]:
    """Measure each ``name: (environ, expected reply)`` of ``entrants`` in this process.

    Each is checked (``200`` and the expected JSON), warmed up (``warmup`` messages) and its
    queries counted; then the timed rounds alternate between the entrants (round 1 of
    each, round 2 of each, ...), so that a slower spell of a shared machine falls on all of
    them alike. The median round is reported; each answer is checked again at the end.
    ``first_us`` is the time of each entrant's first message (the first entrant's is the
    process's first: the cold figure).
    """
    results: dict[str, dict[str, Any]] = {}
    for name, (environ, expected) in entrants.items():
        # The first entrant's first message is a cold process's first message: it pays
        # the URL resolver, the plugins, the first connection (and, for apigw_ws, the
        # compiled read and the cache subscription).
        start = time.perf_counter()
        check_reply(handler, environ, expected)
        first_us = (time.perf_counter() - start) * 1e6
        for _ in range(warmup):
            status, _ = send(handler, environ)
            if not status.startswith("200"):
                raise BenchError(f"{environ['PATH_INFO']}: {status} during warm-up")
        results[name] = count_queries(handler, environ) | {"rates": [], "first_us": first_us}
    for _ in range(rounds):
        for name, (environ, _expected) in entrants.items():
            results[name]["rates"].append(_round(handler, environ, messages))
    for name, (environ, expected) in entrants.items():
        check_reply(handler, environ, expected)  # still answering correctly after the runs
        median = statistics.median(results[name]["rates"])
        results[name] |= {"rate": median, "us_per_message": 1e6 / median}
    return results


def profile(handler: Callable[..., Any], environ: Mapping[str, Any], messages: int) -> str:
    """cProfile ``messages`` messages: the top 15 functions by cumulative time, then the
    top 15 of those defined in the ``apigw_ws`` package (paths relative to the repo)."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(messages):
        send(handler, environ)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    ours = sorted(
        (
            (ct, nc, tt, f"{file.split('/apigw_ws/', 1)[1]}:{line}({func})")
            for (file, line, func), (_cc, nc, tt, ct, _callers) in stats.stats.items()
            if "/apigw_ws/" in file
        ),
        reverse=True,
    )[:15]
    stats.strip_dirs().sort_stats("cumulative").print_stats(15)
    out.write("   functions in apigw_ws/, by cumulative time (us/msg: under the profiler):\n")
    out.write(f"   {'ncalls':>8} {'tottime':>8} {'cumtime':>8}  us/msg  function\n")
    for ct, nc, tt, name in ours:
        out.write(
            f"   {nc:>8} {tt:>8.3f} {ct:>8.3f} {ct / messages * 1e6:>7.1f}  apigw_ws/{name}\n"
        )
    return out.getvalue()
