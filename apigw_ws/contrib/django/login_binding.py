"""Login binding: logout, a password change and deactivation end the user's connections.

What the ``apigw_ws.builtin_plugins.login_binding`` plugin switches on. A session acts as
the user bound at ``$connect`` for as long as it lives; on Django's ``user_logged_out``
signal, and when a user row is saved with a new password hash or ``is_active`` turned
off, every connected session of that user is ended (see
``apigw_ws.contrib.django.session_ending``).

Not seen: changes that bypass ``Model.save()`` (``QuerySet.update()``, raw SQL). Call
``end_user_sessions`` yourself there.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_save, pre_save

from .receivers import plugin_loaded
from .session_ending import end_user_sessions

__all__ = ["lock_user"]

PLUGIN = "apigw_ws.builtin_plugins.login_binding"

#: Set on a user instance between ``pre_save`` and ``post_save`` when its login changed.
_ENDS_LOGIN = "_apigw_ws_ends_login"
_WATCHED_FIELDS = frozenset({"password", "is_active"})


def lock_user(user_pk: Any, *, using: str | None = None) -> None:
    """Lock the user's row until the current transaction ends (``SELECT ... FOR UPDATE``).

    The one lock a ``$connect`` (from its login check to its session row) and a logout,
    password change or deactivation (from ending the login to ending the sessions) both
    take, so that whatever the interleaving, one sees what the other did: a connect
    either finds the login ended, or its session row is there to be ended. SQLite has no
    row locks; an ``IMMEDIATE`` transaction (or the writers' lock) serialises the two.
    """
    manager = get_user_model()._default_manager
    if using is not None:
        manager = manager.db_manager(using)
    list(manager.select_for_update().filter(pk=user_pk).values_list("pk", flat=True))


def _on_logged_out(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    if user is None or user.pk is None or not plugin_loaded(PLUGIN):
        return
    # Django sends this signal before it flushes the session: a connect checking the
    # login in between would still find it. So the login ends here, under the user's
    # lock, together with the sessions (see lock_user).
    with transaction.atomic():
        lock_user(user.pk)
        session = getattr(request, "session", None)
        if session is not None and session.session_key:
            session.delete()
        end_user_sessions(user, reason="logged out")


def _before_user_save(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if raw or instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and not _WATCHED_FIELDS & set(update_fields):
        return  # e.g. update_last_login: no query on every login
    if not plugin_loaded(PLUGIN):
        return
    stored = (
        sender._default_manager.using(kwargs.get("using"))
        .filter(pk=instance.pk)
        .values_list("password", "is_active")
        .first()
    )
    if stored is None:
        return
    password, was_active = stored
    deactivated = was_active and not getattr(instance, "is_active", True)
    if password != getattr(instance, "password", password) or deactivated:
        setattr(instance, _ENDS_LOGIN, "deactivated" if deactivated else "password changed")


def _after_user_save(sender: Any, instance: Any, **kwargs: Any) -> None:
    reason = instance.__dict__.pop(_ENDS_LOGIN, None)
    if reason:
        end_user_sessions(instance, reason=reason, using=kwargs.get("using"))


def connect_receivers() -> None:
    """Connect the signal receivers (idempotent); called by the Django app's ``ready()``."""
    uid = "apigw_ws.login_binding"
    user_logged_out.connect(_on_logged_out, dispatch_uid=uid)
    # A lazy "app_label.Model" sender: resolved once the user model is loaded.
    pre_save.connect(_before_user_save, sender=settings.AUTH_USER_MODEL, dispatch_uid=uid)
    post_save.connect(_after_user_save, sender=settings.AUTH_USER_MODEL, dispatch_uid=uid)
