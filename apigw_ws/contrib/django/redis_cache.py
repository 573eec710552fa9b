"""Django's ``RedisCache``, reusing one Redis client per connection pool.

Django's Redis backend makes a new ``redis.Redis`` client for every cache operation, and
redis-py builds its table of ~165 response callbacks for every new client
(redis/redis-py#3624): that costs more than the round trip to a local Redis. Clients are
thread-safe and hold no connection of their own (the pool does), so one per pool serves
every call. Everything else — options, serializer, pools, failover of reads to replicas —
is Django's.

    CACHES = {
        "ws_sessions": {
            "BACKEND": "apigw_ws.contrib.django.redis_cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/1",
        }
    }
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends import redis as django_redis


class _ClientPerPool(django_redis.RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            pool = self._get_connection_pool(write)
            client = self._clients[index] = self._client(connection_pool=pool)
        return client


class RedisCache(django_redis.RedisCache):
    """``django.core.cache.backends.redis.RedisCache`` with one client per pool."""

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _ClientPerPool
