"""Channel access: who may join a channel, and ending the sessions that may no longer stay.

What the ``apigw_ws.builtin_plugins.channels`` plugin decides with. Rules are
``ChannelPermission`` rows (exact names or ``*``/``?`` patterns, edited in the admin). A
channel no row matches is allowed when ``APIGW_WS["CHANNELS"]["ALLOW_UNLISTED"]`` is true
(the default), refused otherwise.

Access is decided again when it may change: when a user row is saved (``is_staff``,
``is_superuser``, ``is_active``), when a user's groups or permissions change, or a group's
permissions. Each connected session of the users concerned whose channel they may no
longer join is ended (marked disconnected, closed through the Management API). Not seen:
changes that bypass the ORM's signals (``QuerySet.update()``, raw SQL) and edits of the
``ChannelPermission`` rules themselves: call :func:`recheck_users` there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import router
from django.db.models.signals import m2m_changed, post_save

from .conf import ws_settings
from .models import ChannelPermission, WebSocketSession
from .receivers import plugin_loaded
from .session_cache import forget
from .session_ending import end_sessions

__all__ = ["may_join", "move_to_channel", "recheck_users"]

PLUGIN = "apigw_ws.builtin_plugins.channels"

#: User fields that ``ChannelPermission.allows`` reads.
_ACCESS_FIELDS = frozenset({"is_staff", "is_superuser", "is_active"})


def may_join(user: Any, channel: str) -> bool:
    """Return whether ``user`` may join ``channel`` under the ``ChannelPermission`` rules."""
    rule = ChannelPermission.objects.for_channel(channel)
    if rule is None:
        return bool(ws_settings.CHANNELS["ALLOW_UNLISTED"])
    return rule.allows(user)


def move_to_channel(session: Any, channel: str) -> None:
    """Move the connected ``session`` to ``channel`` (one ``UPDATE``); ``channel`` is valid.

    Decides nothing about access: the permission hook has, before the handler ran.
    """
    WebSocketSession.objects.filter(pk=session.pk, connected=True).update(channel_name=channel)
    forget([session.connection_id])
    session.channel_name = channel


def recheck_users(user_ids: Iterable[Any], *, using: str | None = None) -> int:
    """End the connected sessions of ``user_ids`` that may no longer be in their channel.

    Return how many were ended. Each user is read again, so cached permissions are fresh.
    """
    db = using or router.db_for_write(WebSocketSession)
    ids = set(user_ids)
    if not ids:
        return 0
    sessions = WebSocketSession.objects.using(db).filter(user_id__in=ids, connected=True)
    channels = set(sessions.exclude(channel_name="").values_list("user_id", "channel_name"))
    if not channels:
        return 0
    users = get_user_model()._default_manager.using(db).in_bulk({uid for uid, _ in channels})
    denied = [(uid, name) for uid, name in channels if not may_join(users.get(uid), name)]
    ended = 0
    for uid, name in denied:
        ended += end_sessions(
            sessions.filter(user_id=uid, channel_name=name),
            reason=f"user {uid}: no longer allowed in channel {name!r}",
            using=db,
        )
    return ended


def _after_user_save(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if created or kwargs.get("raw"):
        return
    if update_fields is not None and not _ACCESS_FIELDS & set(update_fields):
        return  # e.g. update_last_login: no query on every login
    if plugin_loaded(PLUGIN):
        recheck_users([instance.pk], using=kwargs.get("using"))


def _users_of(instance: Any, model: Any, pk_set: Any, reverse: bool) -> set[Any]:
    """Return the users an m2m change concerns; ``pk_set=None``: all currently related."""
    users = get_user_model()._default_manager
    if isinstance(instance, Group) and model is not users.model:  # group.permissions
        return set(instance.user_set.values_list("pk", flat=True))
    if not reverse:  # user.groups / user.user_permissions
        return {instance.pk}
    if model is users.model:  # group.user_set / permission.user_set
        if pk_set is None:
            return set(instance.user_set.values_list("pk", flat=True))
        return set(pk_set)
    # permission.group_set
    groups = instance.group_set.all() if pk_set is None else pk_set
    return set(users.filter(groups__in=groups).values_list("pk", flat=True))


def _on_m2m_changed(
    sender: Any, instance: Any, action: str, reverse: bool, model: Any, pk_set: Any, **kwargs: Any
) -> None:
    if action not in ("post_add", "post_remove", "post_clear", "pre_clear"):
        return
    if not plugin_loaded(PLUGIN):
        return
    if action == "pre_clear":
        # After the clear nobody knows whom it concerned: remember them now.
        instance._apigw_ws_cleared = _users_of(instance, model, None, reverse)
        return
    users = (
        instance.__dict__.pop("_apigw_ws_cleared", set())
        if action == "post_clear"
        else _users_of(instance, model, pk_set, reverse)
    )
    recheck_users(users, using=kwargs.get("using"))


def connect_receivers() -> None:
    """Connect the signal receivers (idempotent); called by the Django app's ``ready()``."""
    uid = "apigw_ws.channels"
    post_save.connect(_after_user_save, sender=settings.AUTH_USER_MODEL, dispatch_uid=uid)
    user_model = get_user_model()
    for relation in ("groups", "user_permissions"):
        field = getattr(user_model, relation, None)
        if field is not None:
            m2m_changed.connect(_on_m2m_changed, sender=field.through, dispatch_uid=uid + relation)
    m2m_changed.connect(_on_m2m_changed, sender=Group.permissions.through, dispatch_uid=uid + "g")
