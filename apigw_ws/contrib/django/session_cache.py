"""The session cache: what a message needs about its connection, kept by connection id.

``APIGW_WS["SESSION_CACHE"]`` names a Django cache alias (default ``None``: no cache, one
database read per message). When set, ``$connect`` stores an entry for the new session
(its row, its user's row without the password hash and, where handlers declare
permissions, the user's permission set), and a message whose entry is present is served
without any query up to the handler.

Every change that a message must see replaces the entry by a *tombstone*, once at once
and once more after the transaction commits (see :func:`forget`). A message that finds no
entry reads the database and stores what it read with ``add`` (only if the key is still
empty), so a read that raced with a change can never overwrite that change's tombstone;
a message that finds a tombstone saw it after the change committed, so its read is fresh
and it overwrites the tombstone with ``set``.

What the receivers in :func:`connect_receivers` see: a session row saved or deleted, a
user row saved (except a ``last_login``-only save), ``m2m_changed`` on a user's
permissions and groups and on a group's permissions, a group or permission deleted.
The rest of the package calls :func:`forget` where it updates sessions in bulk
(disconnect, gone marking, prune, admin disconnect, channel change, login binding).
Changes that bypass ``Model.save()`` and the related managers (``QuerySet.update()``,
raw SQL) are not seen: call :func:`forget` or :func:`forget_users` there.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, router, transaction
from django.db.models.base import ModelState

from . import near_cache
from .compiled import CompiledQuery
from .conf import ws_settings
from .runtime import get_plugins

#: What replaces an entry when its session, user or permissions change.
TOMBSTONE = 0
#: How long a tombstone outlives the change: longer than any database read can take.
TOMBSTONE_SECONDS = 60
#: User fields never cached: the password hash stays in the database (it loads, with
#: one query, only if something reads it), and ``last_login`` changes on every login.
UNCACHED_USER_FIELDS = frozenset({"password", "last_login"})
#: Bumped when the shape of an entry changes, so that old entries are simply not found.
ENTRY_FORMAT = 1
_MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def get_cache() -> BaseCache | None:
    """Return the ``SESSION_CACHE`` cache, or ``None`` when none is configured."""
    alias = ws_settings.SESSION_CACHE
    return caches[alias] if alias else None


_near: tuple[str, Any] | None = None


def _store() -> Any:
    """Return what entries are read from and written to, or ``None`` without a cache.

    A Redis ``SESSION_CACHE`` is fronted by this process's :class:`NearCache` (one per
    process, see ``near_cache``); any other cache is used as it is.
    """
    global _near
    alias = ws_settings.SESSION_CACHE
    if not alias:
        return None
    if _near is not None and _near[0] == alias:
        return _near[1]
    backend = caches[alias]
    store = _near_cache_for(backend)
    if store is None:
        return backend
    _near = (alias, store)
    return store


def _near_cache_for(backend: BaseCache) -> Any | None:
    from django.core.cache.backends.redis import RedisCache

    size = ws_settings.SESSION_CACHE_LOCAL_ENTRIES
    if not size or not isinstance(backend, RedisCache):
        return None
    address = near_cache.redis_address(backend)
    prefix = backend.make_key(layout().prefix)
    if address is None or backend.make_key(layout().prefix + "x") != prefix + "x":
        return None  # several servers, an unknown scheme, or a KEY_FUNCTION of its own
    invalidations = near_cache.Invalidations(address, prefix)
    return near_cache.NearCache(backend, invalidations, size, layout().prefix)


def _reset(*, setting: str, **kwargs: Any) -> None:
    global _near
    if setting in ("APIGW_WS", "CACHES") and _near is not None:
        _near[1].invalidations.close()
        _near = None


setting_changed.connect(_reset, dispatch_uid="apigw_ws.session_cache.reset")


class _Layout:
    """The field names an entry holds, the key prefix naming this layout, and the read."""

    def __init__(self) -> None:
        from .models import WebSocketSession

        self.session_model = WebSocketSession
        self.user_model = WebSocketSession._meta.get_field("user").related_model
        self.session_fields = tuple(f.attname for f in WebSocketSession._meta.concrete_fields)
        self.user_fields = tuple(
            f.attname
            for f in self.user_model._meta.concrete_fields
            if f.attname not in UNCACHED_USER_FIELDS
        )
        shape = repr(
            (ENTRY_FORMAT, self.session_fields, self.user_model._meta.label, self.user_fields)
        )
        self.prefix = f"apigw_ws:s:{hashlib.sha256(shape.encode()).hexdigest()[:8]}:"
        # The message path's one read: the session's fields and its user's (a LEFT JOIN),
        # as the ORM writes it, compiled once per database.
        columns = (*self.session_fields, *(f"user__{name}" for name in self.user_fields))
        self.by_connection = CompiledQuery(
            lambda cid, gateway_pk: WebSocketSession.objects.filter(
                connection_id=cid, api_gateway_id=gateway_pk, connected=True
            ).values_list(*columns)[:1],
            markers=(_CID_MARKER, _PK_MARKER),
        )
        self.user_at = self.session_fields.index("user_id")

    def key(self, connection_id: str) -> str:
        return self.prefix + connection_id


#: Values no real connection id or primary key takes, where the compiled SQL's go.
_CID_MARKER = "\x00apigw_ws connection id\x00"
_PK_MARKER = -7_301_029_385_113
_layout: _Layout | None = None


def layout() -> _Layout:
    global _layout
    if _layout is None:
        _layout = _Layout()
    return _layout


# --- reading ------------------------------------------------------------------------------


def read_session(connection_id: str, gateway: Any, *, using: str | None = None) -> Any | None:
    """Read the connected session of ``connection_id`` on ``gateway`` and its user.

    One query (the user joined in); ``password`` and ``last_login`` are left deferred,
    exactly as on a cache hit.
    """
    lay = layout()
    db = using or router.db_for_read(lay.session_model)
    rows = lay.by_connection.rows(connection_id, gateway.pk, using=db)
    if not rows:
        return None
    row, split = rows[0], len(lay.session_fields)
    user_values = tuple(row[split:]) if row[lay.user_at] is not None else None
    return _from_entry(lay, (tuple(row[:split]), user_values, None), gateway, db)


def session_for_message(
    connection_id: str, gateway: Any, *, permissions: bool = False
) -> Any | None:
    """Return the connected session of ``connection_id`` on ``gateway``, its user attached.

    From the cache when an entry is there (no query); from the database otherwise (one
    read, plus one for the permissions when ``permissions`` is true or handlers declare
    permissions), refilling the cache.
    """
    lay = layout()
    store = _store()
    if store is None:
        session = lay.session_model.objects.for_message(connection_id, gateway)
        if session is not None and permissions:
            load_permissions(session.user)
        return session
    key = lay.key(connection_id)
    entry = store.get(key)
    if entry:
        session = _from_entry(lay, entry, gateway)
        if session is not None and permissions and entry[2] is None:
            load_permissions(session.user)  # filled before any handler declared them
        return session
    session = lay.session_model.objects.for_message(connection_id, gateway)
    if session is None:
        return None
    perms = load_permissions(session.user) if _permissions_declared() else None
    # After a tombstone the read above is fresh: overwrite it. After nothing, only fill
    # what is still empty: a change may have tombstoned the key since this read began.
    if entry is None:
        store.add(key, _entry(lay, session, perms))
    else:
        store.set(key, _entry(lay, session, perms))
    return session


def remember(session: Any) -> None:
    """Store the entry of a session just connected, once its row is committed.

    (At once when no transaction is open; never if it rolls back.)
    """
    store = _store()
    if store is None:
        return
    lay = layout()
    perms = load_permissions(session.user) if _permissions_declared() else None
    entry = _entry(lay, session, perms)
    db = session._state.db or router.db_for_write(lay.session_model)
    transaction.on_commit(lambda: store.set(lay.key(session.connection_id), entry), using=db)


def _entry(lay: _Layout, session: Any, perms: frozenset[str] | None) -> tuple[Any, ...]:
    user = session.user
    values = tuple(getattr(session, name) for name in lay.session_fields)
    if user is None:
        return (values, None, None)
    return (values, tuple(getattr(user, name) for name in lay.user_fields), perms)


def _from_entry(
    lay: _Layout, entry: tuple[Any, ...], gateway: Any, db: str | None = None
) -> Any | None:
    session_values, user_values, perms = entry
    # Read from the database, both rows came from ``db`` (one query); from the cache,
    # each from where the routers read its model.
    session = _instance(lay.session_model, lay.session_fields, session_values, db)
    if session.api_gateway_id != gateway.pk:
        return None  # connection ids are unique: it is not a session of this gateway
    user = None
    if user_values is not None:
        user = _instance(lay.user_model, lay.user_fields, user_values, db)
        if perms is not None:
            user._perm_cache = set(perms)
    session._state.fields_cache = {"api_gateway": gateway, "user": user}
    return session


def _read_db(model: Any) -> str:
    """The database ``model`` is read from (``default`` when no routers are configured)."""
    return router.db_for_read(model) if router.routers else DEFAULT_DB_ALIAS


#: Types whose values instances may share (an entry kept in this process serves many
#: messages): anything else is copied for each instance.
_SHARED = frozenset(
    {str, int, float, bool, type(None), bytes, dt.datetime, dt.date, dt.time, Decimal, UUID}
)


def _instance(
    model: Any, names: tuple[str, ...], values: tuple[Any, ...], db: str | None = None
) -> Any:
    """Make a saved instance of ``model`` from field values, as unpickling one does.

    Like an instance from Django's cache: no ``__init__`` and no ``pre_init`` or
    ``post_init`` signal (``Model.from_db`` costs three times as much, and this runs on
    every message). Fields not in ``names`` are deferred: reading one loads it.
    """
    instance = model.__new__(model)
    if not _SHARED.issuperset(map(type, values)):
        values = copy.deepcopy(values)
    instance.__dict__.update(zip(names, values, strict=True))
    state = instance._state = ModelState()
    state.adding = False
    state.db = db or _read_db(model)
    return instance


# --- permissions --------------------------------------------------------------------------


_declared: tuple[Any, bool] | None = None


def _permissions_declared() -> bool:
    """Return whether any registered handler declares permissions (cached per registry)."""
    global _declared
    registry = get_plugins().registry
    if _declared is None or _declared[0] is not registry:
        _declared = (registry, any(h.permissions or h.all_permissions for h in registry))
    return _declared[1]


_permission_query: CompiledQuery | None = None


def _permissions_of() -> CompiledQuery:
    """The permission query ``ModelBackend`` makes for one user, compiled once."""
    global _permission_query
    if _permission_query is None:
        from django.contrib.auth.models import Permission
        from django.db.models import Q

        # One statement; the ORM compiles it faster than IN subqueries (measured), and the
        # permission tables are small.
        meta = layout().user_model._meta
        direct = meta.get_field("user_permissions").related_query_name()
        via_group = f"group__{meta.get_field('groups').related_query_name()}"
        _permission_query = CompiledQuery(
            lambda direct_pk, group_pk: (
                Permission.objects.filter(Q(**{direct: direct_pk}) | Q(**{via_group: group_pk}))
                .values_list("content_type__app_label", "codename")
                .order_by()
                .distinct()
            ),
            markers=(_PK_MARKER, _PK_MARKER + 1),
        )
    return _permission_query


def load_permissions(user: Any) -> frozenset[str] | None:
    """Load the permission set Django's ``ModelBackend`` would check, in one query.

    The set is stored where ``ModelBackend`` looks first (``user._perm_cache``), so the
    ``has_perm()`` calls of one message cost nothing more. Return it, or ``None`` when
    there is nothing to load (no user, inactive, superuser, or no ``ModelBackend``).
    """
    if user is None or not getattr(user, "is_active", True) or getattr(user, "is_superuser", False):
        return None
    if _MODEL_BACKEND not in settings.AUTHENTICATION_BACKENDS:
        return None
    if not hasattr(user, "user_permissions") or not hasattr(user, "groups"):
        return None  # a custom user model without PermissionsMixin
    if hasattr(user, "_perm_cache"):
        return frozenset(user._perm_cache)
    from django.contrib.auth.models import Permission

    rows = _permissions_of().rows(user.pk, user.pk, using=router.db_for_read(Permission))
    perms = frozenset(f"{app}.{codename}" for app, codename in rows)
    user._perm_cache = set(perms)
    return perms


# --- forgetting ---------------------------------------------------------------------------


def forget(connection_ids: Iterable[str], *, using: str | None = None) -> None:
    """Tombstone the entries of ``connection_ids``: now, and again once the change commits.

    Now, so that the next message in this very transaction sees the change; after the
    commit, so that a message that read the database while the change was uncommitted
    cannot leave what it read behind. Does nothing without a ``SESSION_CACHE``.
    """
    cache = _store()
    if cache is None:
        return
    keys = [layout().key(cid) for cid in connection_ids]
    if not keys:
        return
    stones = dict.fromkeys(keys, TOMBSTONE)
    cache.set_many(stones, timeout=TOMBSTONE_SECONDS)
    db = using or router.db_for_write(layout().session_model)
    if transaction.get_connection(db).in_atomic_block:
        transaction.on_commit(
            lambda: cache.set_many(stones, timeout=TOMBSTONE_SECONDS), using=db, robust=True
        )


def forget_users(user_ids: Iterable[Any], *, using: str | None = None) -> None:
    """Tombstone the entries of every connected session of ``user_ids`` (one read)."""
    ids = [pk for pk in user_ids if pk is not None]
    if ids and get_cache() is not None:
        _forget_where(using, user_id__in=ids)


def _forget_where(using: str | None, **lookups: Any) -> None:
    sessions = layout().session_model.objects.using(using).filter(connected=True, **lookups)
    forget(sessions.values_list("connection_id", flat=True), using=using)


# --- receivers ----------------------------------------------------------------------------


def _session_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    # A row just created has no entry yet; $connect stores one after the commit.
    if not kwargs.get("raw") and not kwargs.get("created"):
        forget([instance.connection_id], using=kwargs.get("using"))


def _user_saved(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    fields = kwargs.get("update_fields")
    if created or kwargs.get("raw") or (fields is not None and fields <= UNCACHED_USER_FIELDS):
        return
    forget_users([instance.pk], using=kwargs.get("using"))


def _m2m_changed(sender: Any, instance: Any, action: str, reverse: bool, **kwargs: Any) -> None:
    """A user's permissions or groups changed, or a group's permissions."""
    if action not in ("post_add", "post_remove", "pre_clear") or get_cache() is None:
        return
    from django.contrib.auth.models import Group, Permission

    pk_set = kwargs.get("pk_set") or ()
    using = kwargs.get("using")
    user_model = layout().user_model
    if isinstance(instance, user_model):
        forget_users([instance.pk], using=using)
    elif isinstance(instance, Group):  # group.permissions or group.user_set
        if action == "pre_clear" or sender is Group.permissions.through:
            _forget_where(using, user__groups=instance)
        else:
            forget_users(pk_set, using=using)
    elif isinstance(instance, Permission):  # permission.user_set or permission.group_set
        if action == "pre_clear":
            _forget_permission_holders(instance, using)
        elif sender is Group.permissions.through:
            _forget_where(using, user__groups__in=pk_set)
        else:
            forget_users(pk_set, using=using)


def _forget_permission_holders(permission: Any, using: str | None) -> None:
    _forget_where(using, user__user_permissions=permission)
    _forget_where(using, user__groups__permissions=permission)


def _group_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    if get_cache() is not None:
        _forget_where(kwargs.get("using"), user__groups=instance)


def _permission_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    if get_cache() is not None:
        _forget_permission_holders(instance, kwargs.get("using"))


def connect_receivers() -> None:
    """Connect the invalidation receivers (idempotent); called by the app's ``ready()``."""
    from django.contrib.auth.models import Group, Permission
    from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

    from .models import WebSocketSession

    uid = "apigw_ws.session_cache"
    post_save.connect(_session_changed, sender=WebSocketSession, dispatch_uid=uid)
    post_delete.connect(_session_changed, sender=WebSocketSession, dispatch_uid=uid)
    user_model = layout().user_model
    post_save.connect(_user_saved, sender=user_model, dispatch_uid=uid)
    for field in ("user_permissions", "groups"):
        if any(f.name == field for f in user_model._meta.get_fields()):
            through = user_model._meta.get_field(field).remote_field.through
            m2m_changed.connect(_m2m_changed, sender=through, dispatch_uid=f"{uid}.{field}")
    m2m_changed.connect(_m2m_changed, sender=Group.permissions.through, dispatch_uid=uid)
    pre_delete.connect(_group_deleted, sender=Group, dispatch_uid=uid)
    pre_delete.connect(_permission_deleted, sender=Permission, dispatch_uid=uid)
