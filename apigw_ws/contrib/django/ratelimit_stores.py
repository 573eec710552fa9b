"""The built-in rate-limit stores: fixed-window counters in the database or in a cache.

Both count one attempt per ``hit()`` and answer how long the caller must wait. Each hit
is one atomic operation, so concurrent processes never let more than ``limit`` attempts
through in one window:

- ``DatabaseStore``: one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` on PostgreSQL
  and SQLite; a ``SELECT ... FOR UPDATE`` transaction on other databases.
- ``CacheStore``: ``cache.add()`` then ``cache.incr()``, atomic on Redis and Memcached
  (not on the database or file caches, whose ``incr`` is a read then a write).
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from django.core.cache import caches
from django.db import IntegrityError, connections, router, transaction

from apigw_ws.errors import ConfigurationError

from .conf import ws_settings
from .models.rate_limit_counter import MAX_KEY_LENGTH, RateLimitCounter

__all__ = [
    "STORES",
    "CacheStore",
    "DatabaseStore",
    "configured_store",
    "prune_counters",
    "storage_key",
    "store_from_settings",
]

_PLAIN_KEY_RE = re.compile(r"[A-Za-z0-9:._/-]+")

STORES = ("database", "cache")


def storage_key(key: str) -> str:
    """Return ``key`` if it is short and plain, else its SHA-256 (memcached-safe, bounded)."""
    if len(key) <= MAX_KEY_LENGTH - 8 and _PLAIN_KEY_RE.fullmatch(key):
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _wait(count: int, limit: int, window_end: float, now: float) -> int:
    if count <= limit:
        return 0
    return max(1, math.ceil(window_end - now))


class DatabaseStore:
    """Counters in the ``RateLimitCounter`` table; the window starts at a key's first hit."""

    def __init__(self, using: str | None = None, *, clock: Callable[[], float] = time.time):
        self.using = using
        self.clock = clock

    def hit(self, key: str, *, limit: int, window: int) -> int:
        now = int(self.clock())
        db = self.using or router.db_for_write(RateLimitCounter)
        stored = storage_key(key)
        if connections[db].vendor in ("postgresql", "sqlite"):
            count, window_end = self._upsert(db, stored, now, window)
        else:
            count, window_end = self._locked(db, stored, now, window)
        return _wait(count, limit, window_end, now)

    def _upsert(self, db: str, key: str, now: int, window: int) -> tuple[int, int]:
        connection = connections[db]
        quote = connection.ops.quote_name
        table = quote(RateLimitCounter._meta.db_table)
        k, c, end = (
            quote(RateLimitCounter._meta.get_field(f).column)
            for f in ("key", "count", "window_end")
        )
        # A running window counts one more; an expired one restarts at 1. SET expressions
        # read the row as it was, so both CASEs see the same old window_end.
        sql = (
            f"INSERT INTO {table} ({k}, {c}, {end}) VALUES (%s, 1, %s)"  # noqa: S608
            f" ON CONFLICT ({k}) DO UPDATE SET"
            f" {c} = CASE WHEN {table}.{end} > %s THEN {table}.{c} + 1 ELSE 1 END,"
            f" {end} = CASE WHEN {table}.{end} > %s THEN {table}.{end} ELSE excluded.{end} END"
            f" RETURNING {c}, {end}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [key, now + window, now, now])
            count, window_end = cursor.fetchone()
        return count, window_end

    def _locked(self, db: str, key: str, now: int, window: int) -> tuple[int, int]:
        rows = RateLimitCounter.objects.using(db)
        with transaction.atomic(using=db):
            row = rows.select_for_update().filter(key=key).first()
            if row is None:
                try:
                    with transaction.atomic(using=db):
                        rows.create(key=key, count=1, window_end=now + window)
                    return 1, now + window
                except IntegrityError:  # another process created it first: count on it
                    row = rows.select_for_update().get(key=key)
            if row.window_end > now:
                row.count += 1
            else:
                row.count, row.window_end = 1, now + window
            row.save(update_fields=["count", "window_end"])
            return row.count, row.window_end


def prune_counters(using: str | None = None, *, now: float | None = None) -> int:
    """Delete the counters whose window has ended; return how many were deleted."""
    db = using or router.db_for_write(RateLimitCounter)
    cutoff = int(time.time() if now is None else now)
    deleted, _ = RateLimitCounter.objects.using(db).filter(window_end__lte=cutoff).delete()
    return deleted


class CacheStore:
    """Counters in a Django cache; windows are aligned to multiples of ``window`` seconds."""

    prefix = "apigw_ws:ratelimit:"

    def __init__(self, alias: str = "default", *, clock: Callable[[], float] = time.time):
        self.alias = alias
        self.clock = clock

    def hit(self, key: str, *, limit: int, window: int) -> int:
        now = self.clock()
        slot = int(now // window)
        cache_key = f"{self.prefix}{storage_key(key)}:{window}:{slot}"
        cache = caches[self.alias]
        # The key expires a second after its window, so a slow clock never reads it late.
        timeout = window + 1
        if cache.add(cache_key, 1, timeout=timeout):
            count = 1
        else:
            try:
                count = cache.incr(cache_key)
            except ValueError:  # expired between add() and incr(): a new window
                count = 1 if cache.add(cache_key, 1, timeout=timeout) else cache.incr(cache_key)
        return _wait(count, limit, (slot + 1) * window, now)


def store_from_settings(options: Mapping[str, Any]) -> DatabaseStore | CacheStore:
    """Return the store ``RATE_LIMIT["STORE"]`` names."""
    name = options.get("STORE", "database")
    if name == "database":
        return DatabaseStore()
    if name == "cache":
        return CacheStore(options.get("CACHE_ALIAS", "default"))
    raise ConfigurationError(f"RATE_LIMIT['STORE'] must be one of {STORES}, not {name!r}")


def configured_store() -> DatabaseStore | CacheStore:
    """Return the store ``APIGW_WS["RATE_LIMIT"]`` names: the built-in plugin's store."""
    return store_from_settings(ws_settings.RATE_LIMIT)
