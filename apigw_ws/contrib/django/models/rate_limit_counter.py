"""``RateLimitCounter``: one fixed-window counter per rate-limited key (database store)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

#: Longest key stored as it is; longer keys are stored as their SHA-256 (see ratelimit_stores.py).
MAX_KEY_LENGTH = 191


class RateLimitCounter(models.Model):
    """Attempts counted for ``key`` in the window that ends at ``window_end``.

    One row per key, never one per attempt: the table holds at most one row for every
    source and user that tried to connect since the last prune (``ws_cleanup``).
    """

    key = models.CharField(_("key"), max_length=MAX_KEY_LENGTH, unique=True)
    count = models.PositiveIntegerField(_("attempts"), default=0)
    # Unix seconds: compared inside one SQL statement by every process, whatever its timezone.
    window_end = models.BigIntegerField(_("window ends (unix time)"), db_index=True)

    class Meta:
        verbose_name = _("rate-limit counter")
        verbose_name_plural = _("rate-limit counters")

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
