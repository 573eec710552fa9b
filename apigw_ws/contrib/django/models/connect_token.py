"""``WebSocketToken``: a single-use connect token, stored only as keyed hashes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class WebSocketToken(models.Model):
    """One token issued by ``ws/token``; spent (``used_at`` set) by the ``$connect`` it opens.

    Neither the token nor the session key is stored: ``token_hash`` and ``session_hash``
    are HMACs keyed with ``SECRET_KEY``, so a database dump or the admin shows nothing a
    client could present.
    """

    token_hash = models.CharField(_("token HMAC"), max_length=64, unique=True, editable=False)
    session_hash = models.CharField(
        _("session HMAC"),
        max_length=64,
        blank=True,
        editable=False,
        help_text=_("Empty when tokens are not bound to a session (TOKENS['BIND_SESSION'])."),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="websocket_tokens",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(_("issued at"))
    expires_at = models.DateTimeField(_("expires at"), db_index=True)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("WebSocket token")
        verbose_name_plural = _("WebSocket tokens")
        indexes = [
            # The issue rate limit without a store counts a user's recent tokens.
            models.Index(fields=["user", "created_at"], name="apigw_ws_token_user_idx"),
        ]

    def __str__(self) -> str:
        return f"token of user {self.user_id} issued {self.created_at:%Y-%m-%d %H:%M:%S}"

    @property
    def is_bound_to_session(self) -> bool:
        return bool(self.session_hash)
