"""Scale-out of a background fan-out: one broadcast, sent by 1, 2 and 4 task workers.

The local gateway (``fanout_gateway.py``, its own process) serves the Management API with
20 ms added to every call and holds ``--sessions`` sink connections; a PostgreSQL
database holds one session row per sink. For each worker count the script starts that
many worker processes (``db_worker``, or ``rqworker`` with ``--engine rq``), enqueues
one ``broadcast(..., background=True)`` and waits for the fan-out record to finish. It
checks that every sink got the message exactly once, then reports:

- wall time from the call to the record's ``finished_at``, and messages per second;
- the ratio to one worker's rate;
- CPU per message: the workers' CPU time (their processes and children, from /proc)
  plus the enqueuing call's, over the messages. The gateway's and PostgreSQL's CPU are
  not counted; they are the "AWS side" and the database a deployment has anyway.

Usage (PostgreSQL on 127.0.0.1:5432, user postgres, trust auth; Redis for ``--engine rq``)::

    .venv/bin/python benchmarks/fanout_workers.py                 # 100,000 sessions
    .venv/bin/python benchmarks/fanout_workers.py --sessions 20000 --workers 1,2
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import fanout_common as fc
from fanout import gateway

ROOT = Path(__file__).resolve().parent.parent

DB_NAME = "apigw_ws_bench_workers"


def cpu_seconds(pid: int) -> float:
    """Return the CPU time of ``pid`` and of its children that it waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def worker_command(engine: str) -> list[str]:
    if engine == "database":
        return ["db_worker", "--backend", "database", "--interval", "0.05", "--no-startup-delay"]
    return ["rqworker", "--job-class", "django_tasks_rq.Job", "default"]


@contextlib.contextmanager
def workers(count: int, engine: str, env: dict[str, str]):
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "django", *worker_command(engine)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for _ in range(count)
    ]
    try:
        time.sleep(3)  # let them import Django and start polling
        yield procs
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def recreate_database() -> None:
    import psycopg

    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
        c.execute(f"CREATE DATABASE {DB_NAME}")


def drop_database() -> None:
    import psycopg

    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def seed(ids: list[str]) -> None:
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from apigw_ws.contrib.django.models import ApiGateway, WebSocketSession

    call_command("migrate", verbosity=0)
    row = ApiGateway.objects.create(api_name="bench", api_id=fc.API_ID, stage_name=fc.STAGE)
    old = timezone.now() - timedelta(minutes=5)
    WebSocketSession.objects.bulk_create(
        (WebSocketSession(connection_id=cid, api_gateway=row, connected_at=old) for cid in ids),
        batch_size=5000,
    )


def measure(count: int, engine: str, env: dict[str, str], gw, sessions: int) -> dict:
    from django.db import connection

    from apigw_ws.contrib.django.models import FanOut, FanOutStatus
    from apigw_ws.contrib.django.sending import broadcast

    if engine == "rq":
        import django_rq

        django_rq.get_connection("default").flushdb()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_tasks_database_dbtaskresult")
    before, _ = gw.counters()
    with workers(count, engine, env) as procs:
        cpu_before = sum(cpu_seconds(p.pid) for p in procs)
        started, enqueue_cpu = time.time(), time.process_time()
        results = broadcast(fc.MESSAGE, background=True)
        enqueue_cpu = time.process_time() - enqueue_cpu
        fanout = results.fanout
        while not (fanout := FanOut.objects.get(pk=fanout.pk)).finished_at:
            time.sleep(0.05)
        cpu = sum(cpu_seconds(p.pid) for p in procs) - cpu_before
    received = gw.counters()[0] - before
    if fanout.status != FanOutStatus.SUCCEEDED or received != sessions:
        failures = fanout.chunks.exclude(failures=[]).values_list("failures", flat=True)[:1]
        raise fc.BenchError(
            f"{count} worker(s): {fanout.status}, {received} of {sessions} received;"
            f" first failures: {list(failures)}"
        )
    wall = fanout.finished_at.timestamp() - started
    return {
        "workers": count,
        "wall_s": round(wall, 2),
        "msg_per_s": round(sessions / wall),
        "cpu_us_per_msg": round((cpu + enqueue_cpu) * 1e6 / sessions),
        "enqueue_s": round(enqueue_cpu, 2),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sessions", type=int, default=100_000)
    p.add_argument("--workers", type=fc._ints, default=[1, 2, 4])
    p.add_argument("--engine", choices=["database", "rq"], default="database")
    p.add_argument("--latency", type=float, default=0.02)
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args()

    recreate_database()
    try:
        with tempfile.TemporaryDirectory() as work:
            ids_file = Path(work) / "ids"
            with gateway(args.sessions, ids_file, args.latency) as gw:
                env = {
                    **os.environ,
                    "DJANGO_SETTINGS_MODULE": "benchmarks.fanout_workers_settings",
                    "PYTHONPATH": str(ROOT),
                    "BENCH_PGDATABASE": DB_NAME,
                    "BENCH_ENDPOINT_URL": gw.endpoint_url,
                    "BENCH_ENGINE": args.engine,
                    # Requests are signed; the local gateway never checks the keys.
                    "AWS_ACCESS_KEY_ID": "bench",
                    "AWS_SECRET_ACCESS_KEY": "bench",
                }
                os.environ.update(env)
                sys.path.insert(0, str(ROOT))
                import django

                django.setup()
                seed(ids_file.read_text().split())
                rows = [measure(n, args.engine, env, gw, args.sessions) for n in args.workers]
    finally:
        from django.db import connections

        connections.close_all()
        drop_database()
    base = rows[0]["msg_per_s"]  # the first count measured: 1 unless --workers says otherwise
    print(f"{args.sessions} sessions, {args.latency * 1000:.0f} ms per call, {args.engine}")
    print("workers  wall s  msg/s  ratio  CPU us/msg")
    for row in rows:
        row["ratio"] = round(row["msg_per_s"] / base, 2)
        print(
            f"{row['workers']:>7}  {row['wall_s']:>6}  {row['msg_per_s']:>5}"
            f"  {row['ratio']:>5}  {row['cpu_us_per_msg']:>10}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
