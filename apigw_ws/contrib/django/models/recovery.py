"""The database backlog of message recovery: each channel's counter and recent messages."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from apigw_ws.recovery import MAX_ID_LENGTH
from apigw_ws.validation import MAX_CHANNEL_NAME_LENGTH

from .gateway import channel_name_validator


class ChannelSequence(models.Model):
    """The last sequence number given to a message of one channel."""

    channel = models.CharField(
        _("channel"),
        max_length=MAX_CHANNEL_NAME_LENGTH,
        unique=True,
        validators=[channel_name_validator],
    )
    last_seq = models.BigIntegerField(_("last sequence number"), default=0)

    class Meta:
        verbose_name = _("channel sequence")
        verbose_name_plural = _("channel sequences")

    def __str__(self) -> str:
        return f"{self.channel} at {self.last_seq}"


class BacklogMessage(models.Model):
    """One message sent to a channel, kept as sent for clients that reconnect."""

    channel = models.CharField(_("channel"), max_length=MAX_CHANNEL_NAME_LENGTH)
    seq = models.BigIntegerField(_("sequence number"))
    message_id = models.CharField(_("message id"), max_length=MAX_ID_LENGTH)
    payload = models.TextField(_("payload"), help_text=_("The JSON text, as it was sent."))
    created_at = models.DateTimeField(_("sent at"), db_index=True)

    class Meta:
        verbose_name = _("backlog message")
        verbose_name_plural = _("backlog messages")
        constraints = [
            models.UniqueConstraint(fields=["channel", "seq"], name="apigw_ws_backlog_seq_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} #{self.seq}"
