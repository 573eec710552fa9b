"""Benchmark apigw_ws's inbound message path against a bare Django view and the incumbent.

Run from the repository root with the project's venv::

    .venv/bin/python benchmarks/run.py

It prints, from one run on this machine:

1. SQL queries per ``$default`` message (a connected session with a user, through the whole
   Django request handling) on SQLite and, when 127.0.0.1:5432 answers, on PostgreSQL;
2. messages/s through Django's ``WSGIHandler`` for apigw_ws and for a bare view that returns
   a ``JsonResponse`` on the same settings and middleware, and the ratio of their times;
3. the same for django-aws-api-gateway-websockets 4.1.0 (``incumbent.py``, run in its own
   venv ``benchmarks/.venv-incumbent``, made here on first use), and our throughput as a
   multiple of its.

It exits non-zero only on errors (a contender answering wrongly, a failed install), never
on a missed target. See ``benchmarks/README.md`` for the method and the last figures.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import socket
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import common

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
INCUMBENT_VENV = HERE / ".venv-incumbent"
INCUMBENT = ("django-aws-api-gateway-websockets", "4.1.0")
PG_NAMES = {"ours": "apigw_ws_bench", "incumbent": "apigw_ws_bench_incumbent"}
ENGINES = ("sqlite", "postgresql")

# Like tests/settings.py: the secret set, the built-in permission and validator plugins,
# and a test plugin (echo_plugin.py, on sys.path as this file's directory) with an echo
# handler.
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

TARGET_TIME_RATIO = 2.0  # our time per message <= 2x the bare view's
TARGET_SPEEDUP = 2.0  # our throughput >= 2x the incumbent's
TARGET_PG_QUERIES = 1
EXPECTED_SQLITE_QUERIES = 1  # UPDATE ... RETURNING with the user as a JSON subquery
PROFILE_MESSAGES = 2000


# --- our side (runs in this interpreter) --------------------------------------------------


def ours(engine: str, pg_name: str, runs: dict[str, int], profile_messages: int) -> dict[str, Any]:
    """Measure apigw_ws and the bare view on ``engine``; Django is configured here, once."""
    from apigw_ws.testing.client import BROWSER_UA, GatewayClient

    common.configure(engine, pg_name, ["apigw_ws.contrib.django"], APIGW_WS=APIGW_WS)

    from django.core.handlers.wsgi import WSGIHandler
    from django.urls import include, path

    from apigw_ws.contrib.django.models import ApiGateway, WebSocketSession

    common.set_urlpatterns([path("ws/", include("apigw_ws.contrib.django.urls"))])

    # The rows a $connect of a logged-in user would have written.
    gateway = ApiGateway.objects.create(api_name="bench", api_id=common.API_ID, region="us-east-1")
    WebSocketSession.objects.create(
        connection_id=common.CONNECTION_ID,
        api_gateway=gateway,
        channel_name="lobby",
        user=common.create_user(),
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
    message = common.wsgi_environ("/ws/default", headers)
    results: dict[str, Any] = {
        "apigw_ws": common.contender(handler, message, common.ECHO_REPLY, **runs),
        "bare": common.contender(
            handler, common.wsgi_environ("/bare/default", headers), common.BARE_REPLY, **runs
        ),
    }
    if profile_messages:
        results["profile"] = common.profile(handler, message, profile_messages)
    return results


# --- the incumbent's venv and subprocesses ------------------------------------------------


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


# --- PostgreSQL ---------------------------------------------------------------------------


def postgres_unavailable() -> str:
    """Return why the local PostgreSQL cannot be used, or ``""`` if it can."""
    try:
        socket.create_connection((common.PG["HOST"], int(common.PG["PORT"])), timeout=2).close()
    except OSError as exc:
        return f"nothing answers at {common.PG['HOST']}:{common.PG['PORT']} ({exc})"
    try:
        import psycopg

        psycopg.connect(
            host=common.PG["HOST"],
            port=common.PG["PORT"],
            user=common.PG["USER"],
            dbname="postgres",
        ).close()
    except Exception as exc:
        return f"cannot connect as {common.PG['USER']}: {exc}"
    return ""


@contextlib.contextmanager
def pg_databases(names: list[str]) -> Iterator[None]:
    """Create the benchmark databases (dropping leftovers first); always drop them after."""
    import psycopg

    def execute(sql: str) -> None:
        with psycopg.connect(
            host=common.PG["HOST"],
            port=common.PG["PORT"],
            user=common.PG["USER"],
            dbname="postgres",
            autocommit=True,
        ) as conn:
            conn.execute(sql)

    try:
        for name in names:
            execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            execute(f'CREATE DATABASE "{name}"')
        yield
    finally:
        for name in names:
            execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": platform.platform(),
        "cpu": cpu,
        "nproc": str(len(os.sched_getaffinity(0))),
        "python": platform.python_version(),
        "django": metadata.version("Django"),
        "apigw_ws": f"apigw_ws {metadata.version('apigw-ws')} (git {commit or '?'})",
    }


LABELS = {
    "apigw_ws": "apigw_ws",
    "bare": "bare view (our venv)",
    "incumbent": f"incumbent {INCUMBENT[1]}",
    "incumbent_bare": "bare view (incumbent venv)",
}
DB_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def header(info: dict[str, str], runs: dict[str, int], notes: list[str]) -> list[str]:
    lines = [
        "apigw_ws inbound-message benchmark",
        f"  date      {info['date']}",
        f"  machine   {info['platform']}; {info['cpu']}; nproc {info['nproc']}",
        f"  ours      Python {info['python']}, Django {info['django']}, {info['apigw_ws']}",
    ]
    if "incumbent" in info:
        lines.append(f"  incumbent {info['incumbent']} (benchmarks/.venv-incumbent)")
    return [
        *lines,
        "  method    Django's WSGIHandler called directly with a prepared environ;"
        f" {runs['warmup']} warm-up messages,",
        f"            then {runs['rounds']} rounds x {runs['messages']} messages, the median round;"
        " DEBUG=False; middleware",
        "            Session, Common, Csrf, Authentication; SQLite in memory; PostgreSQL on"
        " 127.0.0.1, persistent connection",
        *(f"  note      {note}" for note in notes),
    ]


def table(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = [
        f"  {'contender':<28}{'database':<12}{'queries/msg':>11}{'msg/s':>9}{'us/msg':>9}"
        "   rounds (msg/s)"
    ]
    for engine, res in results.items():
        for key, label in LABELS.items():
            if key in res:
                r = res[key]
                rounds = " ".join(f"{rate:,.0f}" for rate in r["rates"])
                lines.append(
                    f"  {label:<28}{DB_LABELS[engine]:<12}{r['per_message']:>11}"
                    f"{r['rate']:>9,.0f}{r['us_per_message']:>9.1f}   {rounds}"
                )
    return lines


def figures(results: dict[str, dict[str, Any]]) -> tuple[list[str], list[str]]:
    """The three figures with their verdicts (targets on SQLite; PostgreSQL for reference)."""
    lines: list[str] = []
    missed: list[str] = []

    def add(text: str, ok: bool | None = None) -> None:
        if ok is not None:
            text += " -> target met" if ok else " -> target MISSED"
            if not ok:
                missed.append(text)
        lines.append(f"  {text}")

    sqlite, pg = results["sqlite"], results.get("postgresql", {})
    if "apigw_ws" in pg:
        n = pg["apigw_ws"]["per_message"]
        add(
            f"1. queries/message, apigw_ws, PostgreSQL: {n} (target <= {TARGET_PG_QUERIES})",
            n <= TARGET_PG_QUERIES,
        )
    else:
        add("1. queries/message, apigw_ws, PostgreSQL: not measured")
    n = sqlite["apigw_ws"]["per_message"]
    add(
        f"   queries/message, apigw_ws, SQLite: {n} (expected <= {EXPECTED_SQLITE_QUERIES})",
        n <= EXPECTED_SQLITE_QUERIES,
    )
    for engine, res in results.items():
        if "incumbent" in res:
            n = res["incumbent"]["per_message"]
            add(f"   queries/message, incumbent, {DB_LABELS[engine]}: {n}")

    for engine, res in results.items():
        ratio = res["bare"]["rate"] / res["apigw_ws"]["rate"]
        text = f"apigw_ws time/message vs bare view, {DB_LABELS[engine]}: {ratio:.2f}x"
        if engine == "sqlite":
            add(f"2. {text} (target <= {TARGET_TIME_RATIO:g}x)", ratio <= TARGET_TIME_RATIO)
        else:
            add(f"   {text} (reference)")
        if "incumbent" in res:
            own = res["incumbent_bare"]["rate"] / res["incumbent"]["rate"]
            add(f"   incumbent time/message vs its bare view, {DB_LABELS[engine]}: {own:.2f}x")

    for engine, res in results.items():
        if "incumbent" not in res:
            if engine == "sqlite":
                add("3. apigw_ws throughput vs incumbent: not measured")
            continue
        speedup = res["apigw_ws"]["rate"] / res["incumbent"]["rate"]
        text = f"apigw_ws throughput vs incumbent, {DB_LABELS[engine]}: {speedup:.2f}x"
        if engine == "sqlite":
            add(f"3. {text} (target >= {TARGET_SPEEDUP:g}x)", speedup >= TARGET_SPEEDUP)
        else:
            add(f"   {text} (reference)")
        bare = res["bare"]["rate"] / res["incumbent_bare"]["rate"]
        add(
            f"   check: bare view, our venv vs incumbent venv, {DB_LABELS[engine]}: {bare:.2f}x"
            " (same work, ~1.00x expected)"
        )
    return lines, missed


def sql_lines(results: dict[str, dict[str, Any]]) -> list[str]:
    lines = []
    for engine, res in results.items():
        lines += ["", f"apigw_ws's SQL for one message on {DB_LABELS[engine]}:"]
        lines += [
            f"  {sql[:150]}{' ...' if len(sql) > 150 else ''}" for sql in res["apigw_ws"]["sql"]
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
    parser.add_argument(
        "--profile",
        action="store_true",
        help="print cProfile's top 15 of our message path even if targets are met",
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--worker", choices=ENGINES, help=argparse.SUPPRESS)  # ours, on PG
    args = parser.parse_args()
    runs = {"rounds": args.rounds, "messages": args.messages, "warmup": args.warmup}
    run_args = [f"--{k}={v}" for k, v in runs.items()]

    if args.worker:  # a subprocess for our side on another database (one per process)
        json.dump(ours(args.worker, PG_NAMES["ours"], runs, 0), sys.stdout)
        return 0

    info, notes = machine(), []
    python = None if args.no_incumbent else incumbent_python()
    if python is not None:
        versions = _installed(python, [INCUMBENT[0], "Django"])
        info["incumbent"] = ", ".join(f"{name} {v}" for name, v in versions.items())
    pg_problem = "skipped (--no-postgres)" if args.no_postgres else postgres_unavailable()
    if pg_problem:
        notes.append(f"PostgreSQL not measured: {pg_problem}")

    results: dict[str, dict[str, Any]] = {}
    print("measuring apigw_ws and the bare view on SQLite (this process) ...", file=sys.stderr)
    results["sqlite"] = ours("sqlite", "", runs, profile_messages=PROFILE_MESSAGES)
    profile = results["sqlite"].pop("profile")
    if python is not None:
        print("measuring the incumbent on SQLite (its venv) ...", file=sys.stderr)
        results["sqlite"] |= run_json([python, HERE / "incumbent.py", "--db=sqlite", *run_args])
    if not pg_problem:
        with pg_databases(list(PG_NAMES.values()) if python else [PG_NAMES["ours"]]):
            print("measuring on PostgreSQL (subprocesses) ...", file=sys.stderr)
            results["postgresql"] = run_json(
                [sys.executable, Path(__file__).resolve(), "--worker=postgresql", *run_args]
            )
            if python is not None:
                results["postgresql"] |= run_json(
                    [
                        python,
                        HERE / "incumbent.py",
                        "--db=postgresql",
                        f"--pg-name={PG_NAMES['incumbent']}",
                        *run_args,
                    ]
                )
    for res in results.values():
        res.pop("versions", None)

    fig_lines, missed = figures(results)
    print("\n".join([*header(info, runs, notes), "", *table(results), "", "figures", *fig_lines]))
    print("\n".join(sql_lines(results)))
    if missed or args.profile:
        print(f"\ncProfile of apigw_ws's message path on SQLite, {PROFILE_MESSAGES} messages:")
        print(profile)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"info": info, "runs": runs, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except common.BenchError as exc:
        sys.exit(f"error: {exc}")
