"""Message recovery in Django: the backlog stores, the channel-send stamp, ``resume``.

``DatabaseBacklog`` keeps a ``ChannelSequence`` counter and ``BacklogMessage`` rows per
channel; ``CacheBacklog`` keeps the counter and one key per message in a Django cache
(Redis or Memcached: their ``incr`` is atomic). Both trim a channel to
``RECOVERY["MAX_MESSAGES"]`` on every send and never return a message older than
``RECOVERY["MAX_AGE_SECONDS"]``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from django.core.cache import caches
from django.db import IntegrityError, router, transaction
from django.db.models import F, Q
from django.utils import timezone

from apigw_ws.errors import BadRequest, ConfigurationError
from apigw_ws.plugins import Plugins
from apigw_ws.recovery import (
    Backlog,
    first_kept_after,
    last_seen,
    message_id_of,
    plan_resume,
    replay_frames,
    stamped,
)
from apigw_ws.sending import encode_message

from .conf import ws_settings
from .models import BacklogMessage, ChannelSequence
from .runtime import get_plugins

__all__ = [
    "STORES",
    "CacheBacklog",
    "DatabaseBacklog",
    "backlog_store",
    "configured_store",
    "resume",
    "stamp_channel_message",
    "store_from_settings",
]

logger = logging.getLogger(__name__)

STORES = ("database", "cache")


class DatabaseBacklog:
    """The backlog in two tables; a send is one transaction of four short statements."""

    def __init__(self, max_messages: int, max_age: int, using: str | None = None):
        self.max_messages = max_messages
        self.max_age = max_age
        self.using = using

    def append(self, channel: str, message_id: str, encode: Callable[[int], str]) -> str:
        db = self.using or router.db_for_write(BacklogMessage)
        now = timezone.now()
        with transaction.atomic(using=db):
            seq = self._next_seq(db, channel)
            text = encode(seq)
            messages = BacklogMessage.objects.using(db)
            messages.create(
                channel=channel, seq=seq, message_id=message_id, payload=text, created_at=now
            )
            messages.filter(channel=channel).filter(
                Q(seq__lte=seq - self.max_messages) | Q(created_at__lt=now - self._age)
            ).delete()
        return text

    @property
    def _age(self) -> timedelta:
        return timedelta(seconds=self.max_age)

    def _next_seq(self, db: str, channel: str) -> int:
        # UPDATE first: it takes the row's write lock, so the read after it is ours alone.
        counters = ChannelSequence.objects.using(db)
        if not counters.filter(channel=channel).update(last_seq=F("last_seq") + 1):
            try:
                with transaction.atomic(using=db):
                    counters.create(channel=channel, last_seq=1)
                return 1
            except IntegrityError:  # another process created it first: count on it
                counters.filter(channel=channel).update(last_seq=F("last_seq") + 1)
        return counters.filter(channel=channel).values_list("last_seq", flat=True).get()

    def read(self, channel: str, after: int | None) -> Backlog:
        db = self.using or router.db_for_read(BacklogMessage)
        last = (
            ChannelSequence.objects.using(db)
            .filter(channel=channel)
            .values_list("last_seq", flat=True)
            .first()
        ) or 0
        if after is None or after == last:
            return Backlog(last)
        rows = (
            BacklogMessage.objects.using(db)
            .filter(
                channel=channel,
                seq__gte=first_kept_after(after, last, self.max_messages),
                created_at__gte=timezone.now() - self._age,
            )
            .order_by("seq")
            .values_list("seq", "payload")
        )
        return Backlog(last, tuple(rows))


class CacheBacklog:
    """The backlog in a Django cache: a counter per channel and a key per message."""

    prefix = "apigw_ws:backlog:"

    def __init__(self, max_messages: int, max_age: int, alias: str = "default"):
        self.max_messages = max_messages
        self.max_age = max_age
        self.alias = alias

    def _key(self, channel: str, seq: int | None = None) -> str:
        return f"{self.prefix}{channel}:" + ("seq" if seq is None else str(seq))

    def append(self, channel: str, message_id: str, encode: Callable[[int], str]) -> str:
        cache = caches[self.alias]
        counter = self._key(channel)
        cache.add(counter, 0, timeout=None)
        seq = cache.incr(counter)
        text = encode(seq)
        # The message key expires with the age limit; the one past the count limit goes.
        cache.set(self._key(channel, seq), text, timeout=self.max_age)
        if seq > self.max_messages:
            cache.delete(self._key(channel, seq - self.max_messages))
        return text

    def read(self, channel: str, after: int | None) -> Backlog:
        cache = caches[self.alias]
        last = cache.get(self._key(channel)) or 0
        if after is None or after == last:
            return Backlog(last)
        start = first_kept_after(after, last, self.max_messages)
        keys = [self._key(channel, seq) for seq in range(start, last + 1)]
        found = cache.get_many(keys)
        entries: list[tuple[int, str]] = []
        for seq, key in zip(range(start, last + 1), keys, strict=True):
            if key in found:
                entries.append((seq, found[key]))
            elif entries:
                # A hole after kept messages: expiry is in order, so only a flush or an
                # eviction makes one. Replay up to it; the client asks again past it.
                break
        return Backlog(last, tuple(entries))


def store_from_settings(options: Mapping[str, Any]) -> DatabaseBacklog | CacheBacklog:
    """Return the backlog store ``RECOVERY["STORE"]`` names."""
    name = options.get("STORE", "database")
    limits = (options["MAX_MESSAGES"], options["MAX_AGE_SECONDS"])
    if name == "database":
        return DatabaseBacklog(*limits)
    if name == "cache":
        return CacheBacklog(*limits, alias=options.get("CACHE_ALIAS", "default"))
    raise ConfigurationError(f"RECOVERY['STORE'] must be one of {STORES}, not {name!r}")


def configured_store() -> DatabaseBacklog | CacheBacklog:
    """Return the backlog store ``APIGW_WS["RECOVERY"]`` names: the built-in plugin's store."""
    return store_from_settings(ws_settings.RECOVERY)


_cached: tuple[Plugins | None, Any] = (None, None)


def backlog_store() -> Any:
    """Return the backlog store of the loaded plugins, or ``None`` (asked once per load)."""
    global _cached
    plugins = get_plugins()
    cached_for, store = _cached
    if cached_for is not plugins:
        store = plugins.hook.apigw_ws_backlog_store()
        _cached = (plugins, store)
    return store


def stamp_channel_message(channel: str, data: Any) -> Any:
    """Return ``data`` stamped with ``id``, ``seq`` and ``channel`` and kept in the backlog.

    Called by ``send_to_channel``. Without a backlog store, or for data that is not a
    JSON object (text, bytes), ``data`` is returned as it is.
    """
    store = backlog_store()
    if store is None or not isinstance(data, Mapping):
        return data
    message_id = message_id_of(data)
    max_bytes = ws_settings.MAX_MESSAGE_BYTES

    def encode(seq: int) -> str:
        envelope = stamped(data, channel=channel, seq=seq, message_id=message_id)
        return encode_message(envelope, max_bytes=max_bytes).decode()

    return store.append(channel, message_id, encode)


def resume(ctx: Any) -> None:
    """Replay to this connection what its channel sent after the client's last ``seq``.

    Only the session's own channel is replayed: the client cannot read another channel's
    backlog by naming it. Frames go through ``ctx.reply`` in order, the
    ``apigw_ws.resumed`` answer last, so they arrive whether or not the route has a
    route response.
    """
    channel = ctx.channel
    if not channel:
        raise BadRequest("resume from a connection in no channel", public="Not in a channel")
    try:
        after = last_seen(ctx.body, channel)
    except ValueError as exc:
        raise BadRequest(str(exc), public="Invalid resume message") from None
    store = backlog_store()
    if store is None:
        raise ConfigurationError("the resume handler runs, but no plugin returns a backlog store")
    plan = plan_resume(channel, after, store.read(channel, after))
    for frame in replay_frames(channel, plan.texts, ws_settings.MAX_MESSAGE_BYTES):
        ctx.reply(frame)
    if plan.gap:
        logger.info(
            "apigw_ws resume of %s in %s: seq %s to %s are past the backlog",
            ctx.connection_id,
            channel,
            plan.gap.first,
            plan.gap.last,
        )
    ctx.reply(plan.answer())
