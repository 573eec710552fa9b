"""``ChannelPermission``: who may join a channel, by exact name or by pattern."""

from __future__ import annotations

import fnmatch
from typing import Any

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apigw_ws.validation import MAX_CHANNEL_NAME_LENGTH

#: A channel name, or a pattern where ``*`` matches any run of characters and ``?`` one.
CHANNEL_PATTERN_RE = r"^[A-Za-z0-9_*?-]+$"
WILDCARDS = "*?"

channel_pattern_validator = RegexValidator(
    CHANNEL_PATTERN_RE,
    _("Use letters, digits, '_' and '-', with '*' (any characters) and '?' (one character)."),
)


def is_pattern(name: str) -> bool:
    return any(c in name for c in WILDCARDS)


def _specificity(rule: ChannelPermission) -> tuple[int, int, str]:
    # Exact names first, then the pattern with the most literal characters; ties by name
    # so the choice never depends on row order.
    literal = sum(c not in WILDCARDS for c in rule.channel_name)
    return (is_pattern(rule.channel_name), -literal, rule.channel_name)


class ChannelPermissionQuerySet(models.QuerySet):
    def for_channel(self, channel: str) -> ChannelPermission | None:
        """Return the rule that governs ``channel``: its exact row, else the best pattern."""
        candidates = self.filter(
            Q(channel_name=channel) | Q(channel_name__contains="*") | Q(channel_name__contains="?")
        )
        matching = [rule for rule in candidates if fnmatch.fnmatchcase(channel, rule.channel_name)]
        return min(matching, key=_specificity, default=None)


class ChannelPermission(models.Model):
    """Who may join the channels that ``channel_name`` names (a name or a pattern)."""

    class Access(models.TextChoices):
        ALLOW_ALL = "allow_all", _("everyone, anonymous users included")
        AUTHENTICATED = "authenticated", _("logged-in users")
        STAFF = "staff", _("staff users")
        SUPERUSER = "superuser", _("superusers")
        PERMISSIONS = "permissions", _("users with the permissions below")

    channel_name = models.CharField(
        _("channel name or pattern"),
        max_length=MAX_CHANNEL_NAME_LENGTH,
        unique=True,
        validators=[channel_pattern_validator],
        help_text=_("An exact name such as 'lobby', or a pattern such as 'team-*' or 'room-??'."),
    )
    access = models.CharField(
        _("who may join"), max_length=16, choices=Access.choices, default=Access.STAFF
    )
    permissions = models.ManyToManyField(
        "auth.Permission",
        blank=True,
        related_name="+",
        verbose_name=_("permissions"),
        help_text=_("Used when access is 'permissions'. With none selected, nobody may join."),
    )
    require_all_permissions = models.BooleanField(
        _("require all permissions"),
        default=True,
        help_text=_("Unticked: any one of the permissions is enough."),
    )
    description = models.CharField(_("description"), max_length=255, blank=True)

    objects = ChannelPermissionQuerySet.as_manager()

    class Meta:
        verbose_name = _("channel permission")
        verbose_name_plural = _("channel permissions")
        ordering = ["channel_name"]

    def __str__(self) -> str:
        return self.channel_name

    def permission_names(self) -> list[str]:
        """Return the ``app_label.codename`` strings ``has_perm`` takes."""
        rows = self.permissions.values_list("content_type__app_label", "codename")
        return [f"{app}.{codename}" for app, codename in rows]

    def allows(self, user: Any) -> bool:
        """Return whether ``user`` (possibly anonymous or ``None``) may join."""
        if self.access == self.Access.ALLOW_ALL:
            return True
        if user is None or not user.is_authenticated or not user.is_active:
            return False
        if self.access == self.Access.AUTHENTICATED:
            return True
        if self.access == self.Access.STAFF:
            return bool(user.is_staff or user.is_superuser)
        if self.access == self.Access.SUPERUSER:
            return bool(user.is_superuser)
        names = self.permission_names()
        if not names:
            return False
        check = all if self.require_all_permissions else any
        return check(user.has_perm(name) for name in names)
