"""``manage.py ws_fanouts``: what background fan-outs sent, to how many, and what is left.

``list`` (the default), ``show ID`` with each chunk's checkpoint, counts and lease,
``resume ID``, ``cancel ID`` and ``sweep`` (enqueue a task for every fan-out whose workers
are gone; the package does it on every enqueue and at the end of every task anyway).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from ...fanout import FanOutError, cancel, resume, sweep
from ...models import FanOut, FanOutChunk, FanOutStatus
from ...models.fanout import FINISHED
from ..base import format_table

LIST_COLUMNS = (
    ("id", "ID"),
    ("status", "STATUS"),
    ("created_at", "CREATED"),
    ("recipients", "RECIPIENTS"),
    ("sent", "SENT"),
    ("gone", "GONE"),
    ("failed", "FAILED"),
    ("pending", "PENDING"),
    ("chunks_done", "CHUNKS DONE"),
    ("message_id", "MESSAGE ID"),
)
CHUNK_COLUMNS = (
    ("number", "CHUNK"),
    ("status", "STATUS"),
    ("size", "SESSIONS"),
    ("last_session_id", "CHECKPOINT"),
    ("sent", "SENT"),
    ("gone", "GONE"),
    ("failed", "FAILED"),
    ("pending", "PENDING"),
    ("attempts", "ATTEMPTS"),
    ("lease_owner", "WORKER"),
    ("lease", "LEASE"),
)


def _time(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def chunk_row(chunk: FanOutChunk, now: Any) -> dict[str, Any]:
    """Return a chunk's report: its checkpoint, counts, what is left, and its lease."""
    pending = 0 if chunk.status == FanOutStatus.SUCCEEDED else len(chunk.pending_ids)
    lease = None
    if chunk.status == FanOutStatus.RUNNING and chunk.lease_expires_at:
        left = (chunk.lease_expires_at - now).total_seconds()
        lease = f"{left:.0f}s left" if left > 0 else f"expired {-left:.0f}s ago"
    return {
        "number": chunk.number,
        "status": chunk.status,
        "size": chunk.size,
        "last_session_id": chunk.last_session_id,
        "sent": chunk.sent,
        "gone": chunk.gone,
        "failed": chunk.failed,
        "retried": chunk.retried,
        "pending": pending,
        "attempts": chunk.attempts,
        "lease_owner": chunk.lease_owner or None,
        "lease": lease,
        "started_at": _time(chunk.started_at),
        "checkpointed_at": _time(chunk.checkpointed_at),
        "finished_at": _time(chunk.finished_at),
        "failures": chunk.failures,
    }


def fanout_row(fanout: FanOut, chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """Return a fan-out's report; ``skipped`` are sessions that disconnected before their turn."""
    totals = {key: sum(c[key] for c in chunks) for key in ("sent", "gone", "failed", "pending")}
    done = sum(1 for c in chunks if c["status"] in FINISHED)
    return {
        "id": fanout.pk,
        "status": fanout.status,
        "message_id": fanout.message_id,
        "created_at": _time(fanout.created_at),
        "started_at": _time(fanout.started_at),
        "finished_at": _time(fanout.finished_at),
        "recipients": fanout.recipients,
        **totals,
        "skipped": fanout.recipients - sum(totals.values()),
        "chunks_done": f"{done}/{len(chunks)}",
        "task_backend": fanout.task_backend,
    }


class Command(BaseCommand):
    help = (
        "List background fan-outs with their progress; show one chunk by chunk; resume,"
        " cancel, or sweep for fan-outs whose workers died."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", metavar="ACTION")
        listing = actions.add_parser("list", help="List fan-outs, newest first (the default).")
        listing.add_argument("--status", choices=FanOutStatus.values, help="Only this status.")
        listing.add_argument("--limit", type=int, default=20, help="At most this many (20).")
        show = actions.add_parser("show", help="Show one fan-out with its chunks.")
        for sub in (listing, show):
            sub.add_argument("--json", action="store_true", help="Print JSON instead of tables.")
        show.add_argument("id", type=int, metavar="ID")
        actions.add_parser("resume", help="Enqueue what a fan-out has not sent.").add_argument(
            "id", type=int, metavar="ID"
        )
        actions.add_parser("cancel", help="Stop a fan-out.").add_argument(
            "id", type=int, metavar="ID"
        )
        actions.add_parser("sweep", help="Enqueue a task for fan-outs no worker runs.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options.get("action") or "list"
        if action == "list":
            self.list(options.get("status"), options.get("limit", 20), options.get("json", False))
        elif action == "show":
            self.show(self.get(options["id"]), options["json"])
        elif action in ("resume", "cancel"):
            fanout = self.get(options["id"])
            try:
                done = resume(fanout) if action == "resume" else cancel(fanout)
            except FanOutError as exc:
                raise CommandError(str(exc)) from None
            if action == "resume":
                self.stdout.write(f"fan-out {fanout.pk}: enqueued {len(done)} task(s)")
            else:
                self.stdout.write(f"fan-out {fanout.pk}: cancelled, {done} chunk(s) stopped")
        else:
            self.stdout.write(f"enqueued {sweep()} task(s) for fan-outs without a live worker")

    def get(self, pk: int) -> FanOut:
        fanout = FanOut.objects.filter(pk=pk).first()
        if fanout is None:
            raise CommandError(f"no fan-out with id {pk} (see `manage.py ws_fanouts list`)")
        return fanout

    def reports(self, fanout: FanOut) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        now = timezone.now()
        chunks = [chunk_row(c, now) for c in FanOutChunk.objects.filter(fanout=fanout)]
        return fanout_row(fanout, chunks), chunks

    def list(self, status: str | None, limit: int, as_json: bool) -> None:
        if limit < 1:
            raise CommandError("--limit must be at least 1")
        fanouts = FanOut.objects.order_by("-created_at", "-pk")
        if status:
            fanouts = fanouts.filter(status=status)
        rows = [self.reports(fanout)[0] for fanout in fanouts[:limit]]
        if as_json:
            self.stdout.write(json.dumps(rows, indent=2))
        elif rows:
            self.stdout.write(self.table(LIST_COLUMNS, rows))
        else:
            self.stdout.write("no background fan-outs")

    def show(self, fanout: FanOut, as_json: bool) -> None:
        row, chunks = self.reports(fanout)
        if as_json:
            self.stdout.write(json.dumps({**row, "chunks": chunks}, indent=2))
            return
        self.stdout.write(format_table(["", "value"], [[k, _cell(v)] for k, v in row.items()]))
        self.stdout.write("")
        self.stdout.write(self.table(CHUNK_COLUMNS, chunks))
        failures = [
            [str(c["number"]), f["connection_id"], str(f["status"] or ""), f["error"]]
            for c in chunks
            for f in c["failures"]
        ]
        if failures:
            self.stdout.write("")
            self.stdout.write(
                format_table(["chunk", "failed connection", "status", "error"], failures)
            )

    @staticmethod
    def table(columns: tuple[tuple[str, str], ...], rows: list[dict[str, Any]]) -> str:
        cells = [[_cell(row[key]) for key, _ in columns] for row in rows]
        return format_table([header for _, header in columns], cells)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)
