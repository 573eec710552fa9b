"""``FanOut`` and ``FanOutChunk``: a background send as a record, checkpointed as it goes.

A fan-out freezes its recipients when it is enqueued (the primary keys of the connected
sessions, split into chunks) and keeps, per chunk, a checkpoint: the last session id sent,
the counts so far, the attempts and the lease of the worker running it. The life of
these rows (claims, checkpoints, takeover) is ``apigw_ws.contrib.django.fanout``'s.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apigw_ws.recovery import MAX_ID_LENGTH, new_message_id


class FanOutStatus(models.TextChoices):
    PENDING = "PENDING", _("pending")
    RUNNING = "RUNNING", _("running")
    SUCCEEDED = "SUCCEEDED", _("succeeded")
    FAILED = "FAILED", _("failed")
    CANCELLED = "CANCELLED", _("cancelled")


#: Statuses that nothing changes any more.
FINISHED = (FanOutStatus.SUCCEEDED, FanOutStatus.FAILED, FanOutStatus.CANCELLED)
UNFINISHED = (FanOutStatus.PENDING, FanOutStatus.RUNNING)


class FanOutQuerySet(models.QuerySet):
    def with_progress(self) -> FanOutQuerySet:
        """Annotate each fan-out with its chunks' totals (``total_sent``, ``chunks_done``, ...)."""
        done = Q(chunks__status__in=FINISHED)
        return self.annotate(
            total_sent=Sum("chunks__sent", default=0),
            total_gone=Sum("chunks__gone", default=0),
            total_failed=Sum("chunks__failed", default=0),
            chunk_count=Count("chunks"),
            chunks_done=Count("chunks", filter=done),
        )


class FanOut(models.Model):
    """One background send: the message, its frozen recipients (in chunks), its status."""

    message_id = models.CharField(
        _("message id"),
        max_length=MAX_ID_LENGTH,
        db_index=True,
        default=new_message_id,
        # Not unique: a caller may send again under its own id, and clients drop the copy.
        help_text=_('The "id" of every message of the fan-out, so clients can drop duplicates.'),
    )
    payload = models.TextField(_("message"), help_text=_("The JSON text each session receives."))
    status = models.CharField(
        _("status"), max_length=10, choices=FanOutStatus.choices, default=FanOutStatus.PENDING
    )
    recipients = models.PositiveIntegerField(
        _("recipients"), default=0, help_text=_("Connected sessions when it was enqueued.")
    )
    chunk_size = models.PositiveIntegerField(_("chunk size"))
    task_backend = models.CharField(_("task backend"), max_length=100)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # One task at a time waits for the chunks other workers hold, to take over a dead one.
    watcher_expires_at = models.DateTimeField(_("watched until"), null=True, blank=True)

    objects = FanOutQuerySet.as_manager()

    class Meta:
        verbose_name = _("background fan-out")
        verbose_name_plural = _("background fan-outs")
        indexes = [
            models.Index(fields=["status", "finished_at"], name="apigw_ws_fanout_status_idx")
        ]

    def __str__(self) -> str:
        return f"fan-out {self.pk} ({self.status.lower()})"


class FanOutChunk(models.Model):
    """Part of a fan-out's recipients, run by one worker at a time under a lease."""

    fanout = models.ForeignKey(
        FanOut, on_delete=models.CASCADE, related_name="chunks", verbose_name=_("fan-out")
    )
    number = models.PositiveIntegerField(_("number"))
    session_ids = models.JSONField(_("session ids"), help_text=_("Ascending primary keys."))
    size = models.PositiveIntegerField(_("sessions"))
    status = models.CharField(
        _("status"), max_length=10, choices=FanOutStatus.choices, default=FanOutStatus.PENDING
    )
    last_session_id = models.BigIntegerField(
        _("checkpoint"), null=True, blank=True, help_text=_("Sent to every session up to this id.")
    )
    sent = models.PositiveIntegerField(_("sent"), default=0)
    gone = models.PositiveIntegerField(_("gone"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    retried = models.PositiveIntegerField(_("retried"), default=0)
    failures = models.JSONField(
        _("first failures"), default=list, blank=True, help_text=_("The first few, with reasons.")
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    lease_owner = models.CharField(_("worker"), max_length=200, blank=True)
    lease_expires_at = models.DateTimeField(_("lease expires at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    checkpointed_at = models.DateTimeField(_("checkpointed at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("fan-out chunk")
        verbose_name_plural = _("fan-out chunks")
        ordering = ["fanout", "number"]
        constraints = [
            models.UniqueConstraint(fields=["fanout", "number"], name="apigw_ws_chunk_number_uniq")
        ]
        indexes = [
            # The sweep looks for running chunks whose lease ran out.
            models.Index(fields=["status", "lease_expires_at"], name="apigw_ws_chunk_lease_idx")
        ]

    def __str__(self) -> str:
        return f"chunk {self.number} of fan-out {self.fanout_id}"

    @property
    def pending_ids(self) -> list[int]:
        """Return the session ids after the checkpoint: what is left to send."""
        last = self.last_session_id
        return [pk for pk in self.session_ids if last is None or pk > last]
