"""``apigw_ws.contrib.django.redis_cache.RedisCache``: Django's Redis cache, one client per pool."""

import pytest

from tests.conftest import require_service

from .conftest import OUR_REDIS, redis_cache


@pytest.fixture
def cache(settings):
    from django.core.cache import caches

    require_service("redis", "127.0.0.1", 6379)
    settings.CACHES = {**settings.CACHES, "one_client": redis_cache(OUR_REDIS)}
    yield caches["one_client"]
    caches["one_client"].clear()


def test_every_operation_uses_the_same_client(cache):
    cache.set("a", 1)
    first = cache._cache.get_client()
    assert cache._cache.get_client() is first
    assert cache._cache.get_client(write=True) is first  # one server: one pool


def test_it_behaves_as_djangos_redis_cache(cache):
    assert cache.add("k", (1, "x")) is True
    assert cache.add("k", "other") is False
    assert cache.get("k") == (1, "x")
    cache.set_many({"a": 1, "b": 2}, timeout=5)
    assert cache.get_many(["a", "b", "c"]) == {"a": 1, "b": 2}
    assert cache.incr("a") == 2
    cache.delete_many(["a", "b", "k"])
    assert cache.get_many(["a", "b", "k"]) == {}
