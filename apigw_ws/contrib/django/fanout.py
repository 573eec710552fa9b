"""The life of a background fan-out: recorded, claimed, checkpointed, taken over, finished.

``start_fanout`` freezes the recipients (the connected sessions' primary keys, in chunks),
stamps the message with its ``id`` (the fan-out's ``message_id``) and enqueues one task per chunk.
A task (``run_fanout``) claims a chunk under a lease, sends to its sessions a
``CHECKPOINT_EVERY`` at a time and, after each such slice, records the last session id
sent and the counts, renewing the lease in the same ``UPDATE``. A worker that dies stops
renewing: once its lease is older than ``APIGW_WS["FANOUT_LEASE_SECONDS"]`` the chunk is
claimable again, and the next worker resumes after the checkpoint. So a recipient gets the
message twice only if it was in the slice being sent when the worker died.

Nothing relies on the task backend retrying: while chunks are held by other workers, one
task of the fan-out stays behind as its watcher and takes over a chunk whose lease runs
out; and every enqueue and every task's end sweeps for fan-outs left with no one at all.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import socket
import time
import uuid
from datetime import timedelta
from typing import Any

import attrs
from django.db import transaction
from django.db.models import DateTimeField, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from apigw_ws.errors import ConfigurationError
from apigw_ws.recovery import ID_FIELD, has_own_id, message_id_of
from apigw_ws.sending import MessageNotSerializable, SendReport, encode_message

from .conf import ws_settings
from .models import FanOut, FanOutChunk, FanOutStatus, WebSocketSession
from .models.fanout import FINISHED, UNFINISHED
from .sending.delivery import connected_pks, send_now

logger = logging.getLogger(__name__)

#: Recipients sent between two checkpoints: at most this many get a message twice when
#: the worker sending to them dies.
CHECKPOINT_EVERY = 200
#: Claims of one chunk before it is given up as FAILED (a chunk that kills its workers).
MAX_ATTEMPTS = 5
#: Failures kept with their reasons, per chunk; all of them are counted.
FAILURES_KEPT = 20
#: Seconds a task goes on taking chunks that are not its own (or watching) before it hands
#: over: RQ, for one, kills a job after 180 s by default.
TASK_BUDGET = 60.0
#: How long ``ws_cleanup`` keeps a finished fan-out (its record is its report).
FINISHED_KEPT = timedelta(days=7)


class FanOutError(ValueError):
    """A fan-out cannot do what was asked (resume a finished one, cancel a finished one)."""


class FanOutTasks(list):
    """The task results of an enqueued fan-out (one per chunk), and ``fanout``, its record."""

    def __init__(self, fanout: FanOut, results: list[Any]) -> None:
        super().__init__(results)
        self.fanout = fanout


def lease() -> timedelta:
    return timedelta(seconds=ws_settings.FANOUT_LEASE_SECONDS)


def worker_id() -> str:
    """Return a name for this run of a task: host, process, and a nonce."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def stamp(text: str) -> tuple[str, str]:
    """Return ``(message id, text with the id)`` for a JSON object's ``text``.

    The rule is message recovery's (``message_id_of``): an object with its own ``id``
    keeps it and is sent as it is, so a channel message recovery stamped keeps that id.
    Otherwise a new ``id`` is added as the object's last key, the rest left byte for byte
    (an ``id`` of ``null``, ``""`` or a bool is replaced where it stands instead, the
    object encoded again).
    """
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise MessageNotSerializable(
            f"background sends take a JSON object, so that every message can carry its {ID_FIELD!r}"
        )
    message_id = message_id_of(data)
    if has_own_id(data):
        return message_id, text
    if ID_FIELD in data:
        stamped = encode_message({**data, ID_FIELD: message_id}).decode()
    else:
        body = text.rstrip()[:-1].rstrip()  # without the closing brace
        separator = "" if body.endswith("{") else ","
        stamped = f"{body}{separator}{json.dumps(ID_FIELD)}:{json.dumps(message_id)}}}"
    encode_message(stamped, max_bytes=ws_settings.MAX_MESSAGE_BYTES)  # the id may tip it over
    return message_id, stamped


def create_fanout(sessions: QuerySet, text: str, *, chunk_size: int) -> FanOut:
    """Record a fan-out of ``text`` to the connected ``sessions``, frozen in chunks."""
    message_id, payload = stamp(text)
    with transaction.atomic(using=sessions.db):
        fanout = FanOut.objects.create(
            message_id=message_id,
            payload=payload,
            chunk_size=chunk_size,
            task_backend=ws_settings.TASK_BACKEND,
        )
        chunks = [
            FanOutChunk(fanout=fanout, number=number, session_ids=pks, size=len(pks))
            for number, pks in enumerate(connected_pks(sessions, chunk_size))
        ]
        FanOutChunk.objects.bulk_create(chunks, batch_size=100)
        fanout.recipients = sum(chunk.size for chunk in chunks)
        if not chunks:
            fanout.status, fanout.finished_at = FanOutStatus.SUCCEEDED, timezone.now()
        fanout.save(update_fields=["recipients", "status", "finished_at"])
    return fanout


def _task_decorator() -> Any:
    try:
        from django.tasks import task
    except ImportError:
        try:
            from django_tasks import task
        except ImportError:
            raise ConfigurationError(
                "background sends need Django's Tasks framework: Django 6.0 or later,"
                " or on Django 5.2 `pip install 'apigw-ws[tasks]'` (the django-tasks"
                " backport) and a TASKS setting"
            ) from None
    return task


def _run_fanout_task(fanout_id: int, chunk_number: int | None = None) -> dict[str, Any]:
    """Send chunk ``chunk_number`` of fan-out ``fanout_id``, then any other; return the report."""
    return run_fanout(fanout_id, chunk_number)


# Workers import a task by its function's path, which queued tasks and settings hold:
# ``apigw_ws.contrib.django.tasks.run_fanout``, the name that module resolves to the task.
# The task is made here because the fan-out enqueues it (and its own task does, again).
_run_fanout_task.__module__ = "apigw_ws.contrib.django.tasks"
_run_fanout_task.__name__ = _run_fanout_task.__qualname__ = "run_fanout"


@functools.cache
def run_fanout_task() -> Any:
    """Return the ``run_fanout`` task, made on first use.

    Made on ``TASK_BACKEND``, so that ``TASKS`` needs no ``"default"`` alias; callers
    pick the backend of each enqueue with ``.using()``. Made on first use, so that
    importing this app never requires Django's Tasks framework.
    """
    return _task_decorator()(backend=ws_settings.TASK_BACKEND)(_run_fanout_task)


def enqueue(fanout: FanOut, numbers: list[int | None]) -> list[Any]:
    """Enqueue one ``run_fanout`` task per chunk number (``None``: any chunk)."""
    task = run_fanout_task().using(backend=fanout.task_backend)
    return [task.enqueue(fanout.pk, number) for number in numbers]


def start_fanout(sessions: QuerySet, text: str, *, chunk_size: int) -> FanOutTasks:
    """Record a fan-out and enqueue its chunks; return the task results and the record.

    Inside a transaction, pass ``on_commit=True`` to the send: a worker of a broker-based
    backend could start before the record is committed (the sweep then starts it later).
    """
    fanout = create_fanout(sessions, text, chunk_size=chunk_size)
    numbers = list(FanOutChunk.objects.filter(fanout=fanout).values_list("number", flat=True))
    results = FanOutTasks(fanout, enqueue(fanout, numbers))
    sweep()
    return results


def run_fanout(fanout_id: int, chunk_number: int | None = None) -> dict[str, Any]:
    """Send the chunks of fan-out ``fanout_id`` that no live worker holds; return what it sent.

    Starts with chunk ``chunk_number`` when it is claimable, then takes any other: pending
    ones, and those whose worker's lease ran out. When only chunks held by others are
    left, stays as the fan-out's watcher (one task at a time) until they finish.
    """
    owner = worker_id()
    report, done = SendReport(), []
    deadline = time.monotonic() + TASK_BUDGET
    fanout = FanOut.objects.filter(pk=fanout_id).first()
    if fanout is not None:
        payload = fanout.payload.encode()
        chunk = claim(fanout, owner, prefer=chunk_number)
        while True:
            if chunk is None:
                if time.monotonic() >= deadline:
                    hand_over(fanout)
                    break
                chunk = watch(fanout, owner, deadline)
                if chunk is None:
                    break
            run_chunk(chunk, owner, payload, report)
            done.append(chunk.number)
            finish_if_done(fanout)
            chunk = claim(fanout, owner) if time.monotonic() < deadline else None
    sweep()
    return {**report.as_dict(), "fanout": fanout_id, "chunks": done}


def hand_over(fanout: FanOut) -> None:
    """Leave ``fanout`` to other tasks: pending chunks have theirs, held ones get a watcher."""
    held = FanOutChunk.objects.filter(fanout_id=fanout.pk, status=FanOutStatus.RUNNING)
    unwatched = FanOut.objects.filter(pk=fanout.pk, status__in=UNFINISHED).filter(
        _unwatched(timezone.now())
    )
    if held.exists() and unwatched.exists():
        enqueue(fanout, [None])


def _claimable(now: Any) -> Q:
    running_stale = Q(status=FanOutStatus.RUNNING, lease_expires_at__lt=now)
    return Q(status=FanOutStatus.PENDING) | running_stale


def claim(fanout: FanOut, owner: str, prefer: int | None = None) -> FanOutChunk | None:
    """Take a claimable chunk of ``fanout`` under a new lease, ``prefer`` first; or ``None``."""
    now = timezone.now()
    chunks = FanOutChunk.objects.filter(fanout_id=fanout.pk)
    candidates = list(
        chunks.filter(_claimable(now))
        .order_by("number")
        .values_list("pk", "number", "attempts")[:20]
    )
    candidates.sort(key=lambda row: row[1] != prefer)
    for pk, number, attempts in candidates:
        still_claimable = chunks.filter(_claimable(now), pk=pk)
        if attempts >= MAX_ATTEMPTS:
            if still_claimable.update(
                status=FanOutStatus.FAILED, finished_at=now, lease_expires_at=None
            ):
                logger.error(
                    "apigw_ws fan-out %s: chunk %s given up after %s attempts",
                    fanout.pk,
                    number,
                    attempts,
                )
                finish_if_done(fanout)
            continue
        if still_claimable.update(
            status=FanOutStatus.RUNNING,
            lease_owner=owner,
            lease_expires_at=now + lease(),
            attempts=F("attempts") + 1,
            started_at=Coalesce("started_at", Value(now, output_field=DateTimeField())),
        ):
            FanOut.objects.filter(pk=fanout.pk, status=FanOutStatus.PENDING).update(
                status=FanOutStatus.RUNNING, started_at=now
            )
            if attempts:
                logger.warning(
                    "apigw_ws fan-out %s: %s takes over chunk %s (attempt %s)",
                    fanout.pk,
                    owner,
                    number,
                    attempts + 1,
                )
            return chunks.get(pk=pk)
    return None


def run_chunk(chunk: FanOutChunk, owner: str, payload: bytes, report: SendReport) -> None:
    """Send ``payload`` to the sessions after the chunk's checkpoint, checkpointing as it goes.

    Stops early when the chunk is no longer this worker's (cancelled, or taken over after
    this worker went silent for longer than the lease).
    """
    pending = chunk.pending_ids
    if not pending:
        checkpoint(chunk, owner, chunk.last_session_id, SendReport(), final=True)
        return
    for start in range(0, len(pending), CHECKPOINT_EVERY):
        ids = pending[start : start + CHECKPOINT_EVERY]
        sent = send_now(WebSocketSession.objects.filter(pk__in=ids), payload)
        report.merge(sent)
        final = start + CHECKPOINT_EVERY >= len(pending)
        if not checkpoint(chunk, owner, ids[-1], sent, final=final):
            logger.warning("apigw_ws fan-out %s: %s lost chunk %s", chunk.fanout_id, owner, chunk)
            return


def checkpoint(
    chunk: FanOutChunk, owner: str, last: int | None, sent: SendReport, *, final: bool
) -> bool:
    """Record ``sent`` and the checkpoint ``last``; return whether the chunk is still ours.

    One ``UPDATE``, which also renews the lease (or, when ``final``, ends the chunk). A
    cancelled chunk still gets its counts; a chunk another worker took over does not (that
    worker sends the slice again, and counts it).
    """
    now = timezone.now()
    room = FAILURES_KEPT - len(chunk.failures)
    if sent.failed and room > 0:
        chunk.failures = chunk.failures + [attrs.asdict(f) for f in sent.failed[:room]]
    counts = {
        "last_session_id": last,
        "sent": F("sent") + sent.sent,
        "gone": F("gone") + len(sent.gone),
        "failed": F("failed") + len(sent.failed),
        "retried": F("retried") + sent.retried,
        "failures": chunk.failures,
        "checkpointed_at": now,
    }
    if final:
        ending = {"status": FanOutStatus.SUCCEEDED, "finished_at": now, "lease_expires_at": None}
    else:
        ending = {"lease_expires_at": now + lease()}
    mine = FanOutChunk.objects.filter(pk=chunk.pk, lease_owner=owner)
    if mine.filter(status=FanOutStatus.RUNNING).update(**counts, **ending):
        return True
    mine.update(**counts)  # cancelled while this slice was sent: still count it
    return False


def finish_if_done(fanout: FanOut) -> None:
    """Mark ``fanout`` SUCCEEDED (or FAILED, if a chunk was given up) once no chunk is left."""
    chunks = FanOutChunk.objects.filter(fanout_id=fanout.pk)
    if chunks.filter(status__in=UNFINISHED).exists():
        return
    final = FanOutStatus.FAILED if chunks.filter(status=FanOutStatus.FAILED).exists() else None
    FanOut.objects.filter(pk=fanout.pk, status__in=UNFINISHED).update(
        status=final or FanOutStatus.SUCCEEDED, finished_at=timezone.now(), watcher_expires_at=None
    )


def _unwatched(now: Any, prefix: str = "") -> Q:
    field = f"{prefix}watcher_expires_at"
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": now})


def poll_interval() -> float:
    return min(2.0, max(0.1, ws_settings.FANOUT_LEASE_SECONDS / 10))


def watch(fanout: FanOut, owner: str, deadline: float) -> FanOutChunk | None:
    """Wait while other workers hold ``fanout``'s last chunks; claim one whose lease runs out.

    Returns ``None`` at once when another task already watches, and when the fan-out is
    finished or cancelled. The watch is itself a lease, renewed every poll. Past
    ``deadline`` (``time.monotonic()``) the watch is handed to a new task.
    """
    now = timezone.now()
    mine = FanOut.objects.filter(pk=fanout.pk, status__in=UNFINISHED)
    if not mine.filter(_unwatched(now)).update(watcher_expires_at=now + lease()):
        return None
    unfinished = FanOutChunk.objects.filter(fanout_id=fanout.pk, status__in=UNFINISHED)
    try:
        while unfinished.exists():
            chunk = claim(fanout, owner)
            if chunk is not None:
                return chunk
            if time.monotonic() >= deadline:
                FanOut.objects.filter(pk=fanout.pk).update(watcher_expires_at=None)
                hand_over(fanout)
                return None
            time.sleep(poll_interval())
            if not mine.update(watcher_expires_at=timezone.now() + lease()):
                return None  # cancelled
        finish_if_done(fanout)
        return None
    finally:
        FanOut.objects.filter(pk=fanout.pk).update(watcher_expires_at=None)


def sweep() -> int:
    """Enqueue a task for each fan-out left with claimable chunks and no one to run them.

    That is: chunks whose worker's lease ran out, or that have waited longer than a lease
    for their task (lost by the broker, or enqueued before the record was committed),
    in fan-outs nobody watches. Reserves the watch first, so each is enqueued once a lease.
    Returns how many tasks it enqueued.
    """
    now = timezone.now()
    waited = now - lease()
    orphaned = Q(status=FanOutStatus.RUNNING, lease_expires_at__lt=now) | Q(
        status=FanOutStatus.PENDING, fanout__created_at__lt=waited
    )
    fanout_ids = set(
        FanOutChunk.objects.filter(orphaned, fanout__status__in=UNFINISHED)
        .filter(_unwatched(now, "fanout__"))
        .values_list("fanout_id", flat=True)[:100]
    )
    enqueued = 0
    for fanout in FanOut.objects.filter(pk__in=fanout_ids):
        reserved = FanOut.objects.filter(pk=fanout.pk, status__in=UNFINISHED).filter(
            _unwatched(now)
        )
        if reserved.update(watcher_expires_at=now + lease()):
            logger.warning("apigw_ws fan-out %s: no live worker; enqueueing a task", fanout.pk)
            enqueue(fanout, [None])
            enqueued += 1
    return enqueued


def cancel(fanout: FanOut) -> int:
    """Stop ``fanout``: its unfinished chunks are not sent further; return how many."""
    if fanout.status not in UNFINISHED:
        raise FanOutError(f"fan-out {fanout.pk} is {fanout.status.lower()}: nothing to cancel")
    now = timezone.now()
    with transaction.atomic():
        FanOut.objects.filter(pk=fanout.pk).update(
            status=FanOutStatus.CANCELLED, finished_at=now, watcher_expires_at=None
        )
        # The lease stays: the worker sending a slice right now still records its counts.
        return FanOutChunk.objects.filter(fanout=fanout, status__in=UNFINISHED).update(
            status=FanOutStatus.CANCELLED, finished_at=now, lease_expires_at=None
        )


def resume(fanout: FanOut) -> list[Any]:
    """Enqueue a task for each chunk of ``fanout`` not sent yet; return the task results.

    A cancelled or failed fan-out is reopened: its cancelled and given-up chunks go on from
    their checkpoints, with their attempts counted afresh. Chunks that a live worker holds
    are left to it.
    """
    if fanout.status == FanOutStatus.SUCCEEDED:
        raise FanOutError(f"fan-out {fanout.pk} has succeeded: nothing to resume")
    reopen = (FanOutStatus.CANCELLED, FanOutStatus.FAILED)
    with transaction.atomic():
        FanOutChunk.objects.filter(fanout=fanout, status__in=reopen).update(
            status=FanOutStatus.PENDING, attempts=0, lease_owner="", finished_at=None
        )
        status = FanOutStatus.RUNNING if fanout.started_at else FanOutStatus.PENDING
        FanOut.objects.filter(pk=fanout.pk).update(status=status, finished_at=None)
    chunks = FanOutChunk.objects.filter(fanout=fanout)
    numbers: list[int | None] = list(
        chunks.filter(_claimable(timezone.now())).values_list("number", flat=True)
    )
    if not numbers and chunks.filter(status__in=UNFINISHED).exists():
        numbers = [None]  # all held by live leases: a task to watch them
    fanout.refresh_from_db()
    return enqueue(fanout, numbers) if numbers else []


def delete_finished_fanouts() -> int:
    """Delete the fan-outs finished more than ``FINISHED_KEPT`` ago; return how many."""
    old = timezone.now() - FINISHED_KEPT
    _total, per_model = FanOut.objects.filter(status__in=FINISHED, finished_at__lt=old).delete()
    return per_model.get(FanOut._meta.label, 0)
