"""The chat's rooms and messages. Who may join a room is a ``ChannelPermission`` row."""

from django.conf import settings
from django.db import models

from apigw_ws.contrib.django.models.gateway import channel_name_validator

#: The longest message text, in characters, the ``post`` handler stores.
MAX_TEXT_LENGTH = 1000
#: The longest acknowledgement id (``ack_id``) a page may give a message.
MAX_ACK_ID_LENGTH = 64


class Room(models.Model):
    """A chat room; its slug is the WebSocket channel its members join."""

    slug = models.CharField(max_length=64, unique=True, validators=[channel_name_validator])
    title = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.title


class Message(models.Model):
    """One message posted to a room; kept as plain text, escaped wherever it is shown."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    username = models.CharField(max_length=150)
    text = models.TextField(max_length=MAX_TEXT_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The page's ack_id: a message sent again after a reconnect is stored once.
    ack_id = models.CharField(max_length=MAX_ACK_ID_LENGTH, blank=True, default="")

    class Meta:
        ordering = ["created_at", "pk"]
        permissions = [("broadcast", "Can broadcast a notice to every connected user")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "ack_id"],
                condition=~models.Q(ack_id=""),
                name="chat_message_ack_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.username} in {self.room.slug}: {self.text[:40]}"

    def as_event(self) -> dict:
        """Return the message as the ``chat_message`` event clients receive."""
        event = {
            "type": "chat_message",
            "id": self.pk,
            "room": self.room.slug,
            "user": self.username,
            "text": self.text,
            "created_at": self.created_at.isoformat(),
        }
        if self.ack_id:
            event["ack_id"] = self.ack_id
        return event
