"""Real task engines, real worker processes, one of them SIGKILLed in the middle of a chunk.

For the database backend (``db_worker``) and RQ on Redis (``rqworker``): two workers
share a fan-out to sinks on the local gateway (20 ms a call); once a chunk has
checkpointed, its worker's process group (and, for RQ, its work horse) is killed. The
other worker takes the chunk over when the lease runs out. Every live recipient must get
the message, twice only within the slice the dead worker was sending, and the record
must end SUCCEEDED with counts that add up. PostgreSQL: the workers are other processes.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from apigw_ws.contrib.django import fanout as engine
from apigw_ws.contrib.django.models import (
    ApiGateway,
    FanOut,
    FanOutChunk,
    FanOutStatus,
    WebSocketSession,
)
from tests.conftest import require_service

from .conftest import counts, make_sessions, pks_of, unknown_ids

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
LEASE = 3.0
CONCURRENCY = 4
LIVE, GONE, CHUNK = 1500, 20, 400
#: Long enough for any of these fan-outs, lease takeover included, on a busy machine.
DEADLINE = 180


@pytest.fixture
def postgres():
    require_service("PostgreSQL", os.environ.get("PGHOST", "127.0.0.1"), 5432)
    assert connection.vendor == "postgresql"


@pytest.fixture
def rq_queue(settings):
    require_service("Redis", "127.0.0.1", 6379)
    import django_rq

    redis = django_rq.get_connection("default")
    redis.flushdb()
    yield
    redis.flushdb()


def worker_command(backend):
    if backend == "database":
        return ["db_worker", "--backend", "database", "--interval", "0.1", "--no-startup-delay"]
    return ["rqworker", "--job-class", "django_tasks_rq.Job", "default"]


class Workers:
    """Worker processes, each in its own process group, all ended at the test's end."""

    def __init__(self, backend, endpoint_url):
        self.backend = backend
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.fanout.worker_settings",
            "APIGW_WS_TEST_DB": "postgres",
            "PGDATABASE": connection.settings_dict["NAME"],
            "APIGW_WS_WORKER_ENDPOINT_URL": endpoint_url,
            "APIGW_WS_WORKER_LEASE": str(LEASE),
            "APIGW_WS_WORKER_CONCURRENCY": str(CONCURRENCY),
        }
        self.procs = []

    def start(self, count):
        for number in range(count):
            log = tempfile.TemporaryFile("w+")  # noqa: SIM115 - closed in stop()
            proc = subprocess.Popen(
                [sys.executable, "-m", "django", *worker_command(self.backend)],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            proc.log = log
            self.procs.append(proc)

    def kill_the_one_running(self, pid):
        """SIGKILL the worker whose process (or work horse, ``pid``) runs a chunk."""
        parent = parent_of(pid)
        (victim,) = [p for p in self.procs if p.pid in (pid, parent)]
        os.killpg(victim.pid, signal.SIGKILL)
        if pid != victim.pid:  # RQ's work horse runs in a session of its own
            os.kill(pid, signal.SIGKILL)
        victim.wait(10)
        return victim

    def logs(self):
        out = []
        for proc in self.procs:
            proc.log.seek(0)
            out.append(proc.log.read()[-3000:])
        return "\n---\n".join(out)

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
            proc.log.close()


def parent_of(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def wait_for(what, predicate, workers):
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.05)
    pytest.fail(f"{what} did not happen within {DEADLINE}s; workers said:\n{workers.logs()}")


def a_chunk_mid_way():
    """Return a running chunk that has checkpointed and still has sessions to send."""
    for chunk in FanOutChunk.objects.filter(status=FanOutStatus.RUNNING, sent__gt=0):
        if chunk.pending_ids:
            return chunk
    return None


@pytest.mark.parametrize("backend", ["database", pytest.param("rq", marks=pytest.mark.redis)])
def test_killing_a_worker_mid_chunk_loses_no_recipient(
    backend, postgres, transactional_db, start_gateway, settings, request
):
    if backend == "rq":
        request.getfixturevalue("rq_queue")
    gateway = start_gateway(latency=0.02)
    settings.APIGW_WS = {
        **settings.APIGW_WS,
        "ENDPOINT_URL": gateway.endpoint_url,
        "TASK_BACKEND": backend,
        "FANOUT_LEASE_SECONDS": LEASE,
    }
    row = ApiGateway.objects.create(api_name="local", api_id="local", stage_name="local")
    live, gone = gateway.open_sinks(LIVE), unknown_ids(GONE)
    make_sessions(row, live + gone)

    results = WebSocketSession.objects.all().send_message(
        {"type": "news"}, background=True, chunk_size=CHUNK
    )
    fanout = results.fanout
    assert len(results) == 4
    assert FanOut.objects.get(pk=fanout.pk).status == FanOutStatus.PENDING  # queued only

    workers = Workers(backend, gateway.endpoint_url)
    try:
        workers.start(2)
        chunk = wait_for("a checkpoint", a_chunk_mid_way, workers)
        pid = int(chunk.lease_owner.split(":")[1])
        workers.kill_the_one_running(pid)
        # Nobody writes this chunk until its lease runs out: this is the dead one's checkpoint.
        chunk.refresh_from_db()
        assert chunk.pending_ids, "the worker finished its chunk before it could be killed"
        checkpoint = chunk.last_session_id

        finished = wait_for(
            "the end of the fan-out",
            lambda: FanOut.objects.filter(pk=fanout.pk, finished_at__isnull=False).first(),
            workers,
        )
    finally:
        workers.stop()

    assert finished.status == FanOutStatus.SUCCEEDED, workers.logs()
    received = dict(zip(live, counts(gateway, live), strict=True))
    assert min(received.values()) >= 1  # every live recipient got it
    assert max(received.values()) <= 2
    # Twice only for sessions the dead worker sent to after its last checkpoint.
    pk = pks_of(live)
    twice = sorted(pk[cid] for cid, n in received.items() if n == 2)
    window = [p for p in chunk.pending_ids[: engine.CHECKPOINT_EVERY]]
    assert set(twice) <= set(window), (checkpoint, twice[:5], window[:5])
    assert len(twice) <= engine.CHECKPOINT_EVERY

    taken_over = FanOutChunk.objects.get(pk=chunk.pk)
    assert (taken_over.status, taken_over.attempts) == (FanOutStatus.SUCCEEDED, 2)
    # The record tells the truth: each live session counted once, the gone ones as gone.
    out = StringIO()
    call_command("ws_fanouts", "show", str(fanout.pk), "--json", stdout=out)
    shown = json.loads(out.getvalue())
    assert (shown["sent"], shown["gone"], shown["failed"], shown["pending"]) == (LIVE, GONE, 0, 0)
    assert sum(c["sent"] for c in shown["chunks"]) == LIVE
    assert WebSocketSession.objects.filter(connected=True).count() == LIVE
