"""Benchmark apigw_ws's inbound message path against a bare Django view and the incumbent.

Run from the repository root with the project's venv::

    .venv/bin/python benchmarks/run.py

One run measures, on each database set-up — a SQLite *file* with a persistent connection,
the same file with Django's default ``CONN_MAX_AGE=0``, and PostgreSQL on 127.0.0.1 with
a persistent connection (when it answers) —

1. apigw_ws without ``SESSION_CACHE``, with a local-memory cache and with Redis (when
   127.0.0.1:6379 answers), each for a plain handler and a permission-guarded one, and a
   bare Django view in the same process (each in a process of its own: Django is
   configured once per process);
2. django-aws-api-gateway-websockets 4.1.0 (``incumbent.py``, in its own venv
   ``benchmarks/.venv-incumbent``, made here on first use) and the bare view in that venv;

and prints SQL reads and writes per message, messages/s, time per message against the
bare view and throughput against the incumbent, each with its target. It exits non-zero
only on errors (a contender answering wrongly, a failed install), never on a missed
target. See ``benchmarks/README.md`` for the method and the last figures.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import common

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
INCUMBENT_VENV = HERE / ".venv-incumbent"
INCUMBENT = ("django-aws-api-gateway-websockets", "4.1.0")
REDIS = ("127.0.0.1", 6379)
REDIS_URL = "redis://127.0.0.1:6379/3"

#: The set-ups of the headline, in print order (in-memory SQLite only with --memory).
SETUP_LABELS = {
    "sqlite": "SQLite file",
    "sqlite-cma0": "SQLite file, CONN_MAX_AGE=0",
    "postgresql": "PostgreSQL",
    "memory": "SQLite in memory (not a headline)",
}
CACHE_LABELS = {
    "none": "no cache",
    "locmem": "LocMemCache",
    "redis": "Redis (Django's RedisCache)",
    "redis1": "Redis (apigw_ws's RedisCache)",
}
REDIS_BACKENDS = {
    "redis": "django.core.cache.backends.redis.RedisCache",
    "redis1": "apigw_ws.contrib.django.redis_cache.RedisCache",
}

# Like tests/settings.py: the secret set, the built-in permission and validator plugins,
# and a test plugin (echo_plugin.py, on sys.path as this file's directory) with an echo
# handler and a permission-guarded one.
APIGW_WS = {
    "GATEWAY_SECRET": common.GATEWAY_SECRET,
    "PLUGINS": [
        "apigw_ws.builtin_plugins.permissions",
        "apigw_ws.builtin_plugins.validators",
        "echo_plugin",
    ],
    "LOAD_ENTRY_POINTS": False,
    "REGION": "us-east-1",
}

# Targets (issue 13), judged on every set-up.
TARGET_WRITES = 0
TARGET_CACHED_QUERIES = 0
TARGET_READS = {"plain": 1, "guarded": 2}  # without a cache
TARGET_REDIS_SPEEDUP = 8.0  # Redis cache: throughput >= 8x the incumbent's
TARGET_REDIS_TIME_RATIO = 1.5  # Redis cache: time per message <= 1.5x the bare view's
TARGET_UNCACHED_SPEEDUP = 4.0  # no cache: throughput >= 4x the incumbent's
PROFILE_MESSAGES = 2000


# --- our side (a worker process per set-up and cache) -------------------------------------


def caches_for(cache: str) -> tuple[dict[str, Any], str | None]:
    """The ``CACHES`` setting and the ``SESSION_CACHE`` alias of a cache kind."""
    caches: dict[str, Any] = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }
    if cache == "none":
        return caches, None
    if cache == "locmem":
        caches["ws"] = {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "apigw_ws-sessions",
        }
    else:
        caches["ws"] = {
            "BACKEND": REDIS_BACKENDS[cache],
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"apigw_ws_bench_{uuid.uuid4().hex}",
        }
    return caches, "ws"


def ours(databases: dict[str, Any], cache: str, runs: dict[str, int], profile: int) -> Any:
    """Measure apigw_ws (plain and guarded handler) and the bare view in this process."""
    from apigw_ws.testing.client import BROWSER_UA, GatewayClient

    caches, alias = caches_for(cache)
    common.configure(
        databases,
        ["apigw_ws.contrib.django"],
        CACHES=caches,
        APIGW_WS={**APIGW_WS, "SESSION_CACHE": alias},
    )

    from django.core.handlers.wsgi import WSGIHandler
    from django.urls import include, path

    from apigw_ws.contrib.django.models import ApiGateway, WebSocketSession

    common.set_urlpatterns([path("ws/", include("apigw_ws.contrib.django.urls"))])

    # The rows a $connect of a logged-in user would have written; the cache fills on the
    # first message (the warm-up), as after a process restart.
    gateway = ApiGateway.objects.create(api_name="bench", api_id=common.API_ID, region="us-east-1")
    user = common.create_user()
    common.grant_through_group(user)
    WebSocketSession.objects.create(
        connection_id=common.CONNECTION_ID,
        api_gateway=gateway,
        channel_name="lobby",
        user=user,
        source_ip=common.SOURCE_IP,
        user_agent=BROWSER_UA,
    )
    # Exactly what API Gateway sends on a $default message through our integration.
    gateway_client = GatewayClient(
        client=None,
        api_id=common.API_ID,
        secret=common.GATEWAY_SECRET,
        host="backend.example.com",
        source_ip=common.SOURCE_IP,
    )
    headers = gateway_client.headers("default", common.CONNECTION_ID)
    handler = WSGIHandler()
    plain = common.wsgi_environ("/ws/default", headers)
    guarded = common.wsgi_environ(
        "/ws/default", headers, json.dumps(common.GUARDED_MESSAGE).encode()
    )
    results: dict[str, Any] = common.contenders(
        handler,
        {
            "plain": (plain, common.ECHO_REPLY),
            "guarded": (guarded, common.GUARDED_REPLY),
            "bare": (common.wsgi_environ("/bare/default", headers), common.BARE_REPLY),
        },
        **runs,
    )
    if profile:
        results["profile"] = common.profile(handler, plain, profile)
    return results


# --- the incumbent's venv -----------------------------------------------------------------


def _installed(python: Path, names: list[str]) -> dict[str, str | None]:
    code = (
        "import json, sys\nfrom importlib import metadata\nout = {}\n"
        "for n in sys.argv[1:]:\n"
        "    try: out[n] = metadata.version(n)\n"
        "    except metadata.PackageNotFoundError: out[n] = None\n"
        "print(json.dumps(out))"
    )
    done = subprocess.run([python, "-c", code, *names], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def incumbent_python() -> Path:
    """Return the incumbent venv's python, creating the venv or fixing its pins if needed.

    Pinned: the incumbent 4.1.0, our exact Django, and our psycopg (for PostgreSQL).
    """
    wanted = {INCUMBENT[0]: INCUMBENT[1], "Django": metadata.version("Django")}
    with contextlib.suppress(metadata.PackageNotFoundError):
        wanted["psycopg"] = metadata.version("psycopg")
    python = INCUMBENT_VENV / "bin" / "python"
    if python.exists() and _installed(python, list(wanted)) == wanted:
        return python
    print(f"setting up {INCUMBENT_VENV.relative_to(ROOT)} ...", file=sys.stderr)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", INCUMBENT_VENV], check=True)
    pins = [f"{INCUMBENT[0]}=={INCUMBENT[1]}", f"Django=={wanted['Django']}"]
    if "psycopg" in wanted:
        pins.append(f"psycopg[binary]=={wanted['psycopg']}")
    done = subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *pins],
        capture_output=True,
        text=True,
    )
    if done.returncode or _installed(python, list(wanted)) != wanted:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"error: could not install {' '.join(pins)} into {INCUMBENT_VENV}")
    return python


def run_json(command: list[Any]) -> dict[str, Any]:
    """Run a worker; its stdout is one JSON document, its stderr passes through."""
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    if done.returncode:
        raise SystemExit(f"error: {' '.join(map(str, command))} exited with {done.returncode}")
    return json.loads(done.stdout)


# --- services -----------------------------------------------------------------------------


def _answers(host: str, port: int) -> str:
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        return f"nothing answers at {host}:{port} ({exc})"
    return ""


def postgres_unavailable() -> str:
    """Return why the local PostgreSQL cannot be used, or ``""`` if it can."""
    problem = _answers(common.PG["HOST"], int(common.PG["PORT"]))
    if problem:
        return problem
    try:
        _pg_execute("SELECT 1")
    except Exception as exc:
        return f"cannot connect as {common.PG['USER']}: {exc}"
    return ""


def _pg_execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(
        host=common.PG["HOST"],
        port=common.PG["PORT"],
        user=common.PG["USER"],
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(sql)


@contextlib.contextmanager
def fresh_database(setup: str, name: str, workdir: Path) -> Iterator[dict[str, Any]]:
    """Yield the ``DATABASES["default"]`` of a new, empty database; drop it afterwards."""
    if common.SETUPS[setup][0] == "postgresql":
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _pg_execute(f'CREATE DATABASE "{name}"')
        try:
            yield common.database(setup, pg_name=name)
        finally:
            _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    path = workdir / f"{name}.sqlite3"
    try:
        yield common.database(setup, sqlite_path=str(path))
    finally:
        for leftover in workdir.glob(f"{name}.sqlite3*"):
            leftover.unlink()


# --- report -------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": platform.platform(),
        "cpu": cpu,
        "nproc": str(len(os.sched_getaffinity(0))),
        "load": load,
        "python": platform.python_version(),
        "django": metadata.version("Django"),
        "apigw_ws": f"apigw_ws {metadata.version('apigw-ws')} (git {commit or '?'})",
    }


def header(info: dict[str, str], runs: dict[str, int], notes: list[str]) -> list[str]:
    lines = [
        "apigw_ws inbound-message benchmark",
        f"  date      {info['date']} (load average at start: {info['load']})",
        f"  machine   {info['platform']}; {info['cpu']}; nproc {info['nproc']}",
        f"  ours      Python {info['python']}, Django {info['django']}, {info['apigw_ws']}",
    ]
    if "incumbent" in info:
        lines.append(f"  incumbent {info['incumbent']} (benchmarks/.venv-incumbent)")
    return [
        *lines,
        "  method    Django's WSGIHandler called directly with a prepared environ;"
        f" {runs['warmup']} warm-up messages per contender,",
        f"            then {runs['rounds']} rounds x {runs['messages']} messages, rounds"
        " alternating between the contenders of a process; the median round;",
        "            DEBUG=False; middleware Session, Common, Csrf, Authentication; a SQLite"
        " file in a fresh directory on disk (Django's defaults);",
        "            PostgreSQL on 127.0.0.1; Redis on 127.0.0.1 (django RedisCache)",
        *(f"  note      {note}" for note in notes),
    ]


def _rows(setup: str, res: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for cache in CACHE_LABELS:
        if cache in res:
            label = f"apigw_ws, {CACHE_LABELS[cache]}"
            yield label, res[cache]["plain"]
            yield f"{label}, guarded", res[cache]["guarded"]
            yield "  bare view (same process)", res[cache]["bare"]
    if "incumbent" in res:
        yield f"incumbent {INCUMBENT[1]}", res["incumbent"]["incumbent"]
        yield "  bare view (incumbent venv)", res["incumbent"]["incumbent_bare"]


def table(results: dict[str, dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for setup, res in results.items():
        lines += [
            "",
            f"  {SETUP_LABELS[setup]}",
            f"    {'contender':<52}{'reads':>6}{'writes':>7}{'msg/s':>9}{'us/msg':>9}"
            f"{'first us':>10}   rounds (msg/s)",
        ]
        for label, r in _rows(setup, res):
            rounds = " ".join(f"{rate:,.0f}" for rate in r["rates"])
            lines.append(
                f"    {label:<52}{r['reads']:>6}{r['writes']:>7}"
                f"{r['rate']:>9,.0f}{r['us_per_message']:>9.1f}{r['first_us']:>10,.0f}   {rounds}"
            )
    return lines


def figures(results: dict[str, dict[str, Any]]) -> tuple[list[str], list[str]]:
    """Every target, per set-up, with its verdict."""
    lines: list[str] = []
    missed: list[str] = []

    def add(text: str, ok: bool | None = None) -> None:
        if ok is not None:
            text += " -> target met" if ok else " -> target MISSED"
            if not ok:
                missed.append(text)
        lines.append(f"    {text}")

    for setup, res in results.items():
        lines.append(f"  {SETUP_LABELS[setup]}")
        ours_ = [(c, kind, res[c][kind]) for c in CACHE_LABELS if c in res for kind in TARGET_READS]
        writes = max(r["writes"] for _c, _k, r in ours_)
        add(
            f"writes/message, every apigw_ws contender: {writes} (target {TARGET_WRITES})",
            writes == TARGET_WRITES,
        )
        for cache, kind, r in ours_:
            queries = r["reads"] + r["writes"]
            if cache == "none":
                target = TARGET_READS[kind]
                add(
                    f"queries/message, no cache, {kind}: {queries} (target <= {target} read)",
                    r["reads"] <= target and r["writes"] == 0,
                )
            else:
                add(
                    f"queries/message, {CACHE_LABELS[cache]} warm, {kind}: {queries}"
                    f" (target {TARGET_CACHED_QUERIES})",
                    queries == TARGET_CACHED_QUERIES,
                )
        for cache in CACHE_LABELS:
            if cache not in res:
                continue
            for kind in TARGET_READS:
                ratio = res[cache]["bare"]["rate"] / res[cache][kind]["rate"]
                text = f"time/message vs bare view, {CACHE_LABELS[cache]}, {kind}: {ratio:.2f}x"
                if cache in REDIS_BACKENDS:
                    add(
                        f"{text} (target <= {TARGET_REDIS_TIME_RATIO:g}x)",
                        ratio <= TARGET_REDIS_TIME_RATIO,
                    )
                else:
                    add(text)
        if "incumbent" not in res:
            add("throughput vs incumbent: not measured")
            continue
        incumbent = res["incumbent"]["incumbent"]["rate"]
        for cache in CACHE_LABELS:
            if cache not in res:
                continue
            speedup = res[cache]["plain"]["rate"] / incumbent
            text = f"throughput vs incumbent, {CACHE_LABELS[cache]}: {speedup:.2f}x"
            if cache in REDIS_BACKENDS:
                add(
                    f"{text} (target >= {TARGET_REDIS_SPEEDUP:g}x)", speedup >= TARGET_REDIS_SPEEDUP
                )
            elif cache == "none":
                add(
                    f"{text} (target >= {TARGET_UNCACHED_SPEEDUP:g}x)",
                    speedup >= TARGET_UNCACHED_SPEEDUP,
                )
            else:
                add(text)
        cold_theirs = res["incumbent"]["incumbent"]["first_us"]
        for cache in CACHE_LABELS:
            if cache in res:
                cold_ours = res[cache]["plain"]["first_us"]
                add(
                    f"cold: the first message of a fresh process, {CACHE_LABELS[cache]}:"
                    f" {cold_ours / 1000:.1f} ms vs the incumbent's {cold_theirs / 1000:.1f} ms"
                    f" ({cold_theirs / cold_ours:.2f}x faster)"
                )
        bares = [res[c]["bare"]["rate"] for c in CACHE_LABELS if c in res]
        check = (sum(bares) / len(bares)) / res["incumbent"]["incumbent_bare"]["rate"]
        add(
            f"check: bare view, our processes vs the incumbent's: {check:.2f}x"
            " (same work, ~1.00x expected)"
        )
    return lines, missed


def sql_lines(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    for setup, res in results.items():
        for cache, kinds in ((c, res[c]) for c in CACHE_LABELS if c in res):
            for kind in TARGET_READS:
                sql = kinds[kind]["sql"]
                if sql:
                    lines += [
                        "",
                        f"apigw_ws's SQL, {SETUP_LABELS[setup]}, {CACHE_LABELS[cache]},"
                        f" {kind} handler:",
                    ]
                    lines += [f"  {q[:150]}{' ...' if len(q) > 150 else ''}" for q in sql]
        if "incumbent" in res:
            lines += ["", f"the incumbent's SQL, {SETUP_LABELS[setup]}:"]
            lines += [
                f"  {q[:150]}{' ...' if len(q) > 150 else ''}"
                for q in res["incumbent"]["incumbent"]["sql"]
            ]
    return lines


# --- main ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description="apigw_ws inbound-message benchmark")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (median taken)")
    parser.add_argument("--messages", type=int, default=2000, help="messages per round")
    parser.add_argument("--warmup", type=int, default=500, help="untimed messages first")
    parser.add_argument("--no-incumbent", action="store_true", help="skip the incumbent")
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--no-redis", action="store_true", help="skip the Redis cache")
    parser.add_argument("--memory", action="store_true", help="also in-memory SQLite")
    parser.add_argument(
        "--profile", action="store_true", help="print cProfile's top 15 of the Redis message path"
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    # A worker: one set-up and cache on our side, configured once in its own process.
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    runs = {"rounds": args.rounds, "messages": args.messages, "warmup": args.warmup}
    run_args = [f"--{k}={v}" for k, v in runs.items()]

    if args.worker:
        spec = json.loads(args.worker)
        json.dump(ours(spec["databases"], spec["cache"], runs, spec["profile"]), sys.stdout)
        return 0

    info, notes = machine(), []
    python = None if args.no_incumbent else incumbent_python()
    if python is not None:
        versions = _installed(python, [INCUMBENT[0], "Django"])
        info["incumbent"] = ", ".join(f"{name} {v}" for name, v in versions.items())
    setups = ["sqlite", "sqlite-cma0", "postgresql"] + (["memory"] if args.memory else [])
    pg_problem = "skipped (--no-postgres)" if args.no_postgres else postgres_unavailable()
    if pg_problem:
        notes.append(f"PostgreSQL not measured: {pg_problem}")
        setups.remove("postgresql")
    caches = list(CACHE_LABELS)
    redis_problem = "skipped (--no-redis)" if args.no_redis else _answers(*REDIS)
    if redis_problem:
        notes.append(f"Redis not measured: {redis_problem}")
        caches = [c for c in caches if c not in REDIS_BACKENDS]

    results: dict[str, dict[str, Any]] = {}
    profile_text = ""
    workdir = Path(tempfile.mkdtemp(prefix="apigw_ws_bench_"))
    notes.append(f"SQLite files in {workdir} (deleted afterwards)")
    try:
        for setup in setups:
            results[setup] = {}
            for cache in caches:
                print(
                    f"measuring apigw_ws, {SETUP_LABELS[setup]}, {CACHE_LABELS[cache]} ...",
                    file=sys.stderr,
                )
                profile = (
                    PROFILE_MESSAGES
                    if args.profile and cache == "redis1" and setup == "sqlite"
                    else 0
                )
                with fresh_database(
                    setup, f"apigw_ws_bench_{os.getpid()}_{cache}", workdir
                ) as databases:
                    spec = json.dumps({"databases": databases, "cache": cache, "profile": profile})
                    res = run_json(
                        [sys.executable, Path(__file__).resolve(), f"--worker={spec}", *run_args]
                    )
                profile_text = res.pop("profile", profile_text)
                results[setup][cache] = res
            if python is not None:
                print(f"measuring the incumbent, {SETUP_LABELS[setup]} ...", file=sys.stderr)
                with fresh_database(
                    setup, f"apigw_ws_bench_{os.getpid()}_incumbent", workdir
                ) as databases:
                    results[setup]["incumbent"] = run_json(
                        [
                            python,
                            HERE / "incumbent.py",
                            f"--db={setup}",
                            f"--pg-name={databases['NAME']}",
                            f"--sqlite-path={databases['NAME']}",
                            *run_args,
                        ]
                    )
                results[setup]["incumbent"].pop("versions", None)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    fig_lines, missed = figures(results)
    print("\n".join([*header(info, runs, notes), *table(results), "", "figures", *fig_lines]))
    print("\n".join(sql_lines(results)))
    if profile_text:
        print(
            f"\ncProfile of apigw_ws's message path, SQLite file, Redis, {PROFILE_MESSAGES}"
            " messages:"
        )
        print(profile_text)
    if missed:
        print(f"\n{len(missed)} target(s) missed.")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"info": info, "runs": runs, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except common.BenchError as exc:
        sys.exit(f"error: {exc}")
