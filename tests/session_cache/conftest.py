import uuid

import pytest
from django.contrib.auth.models import Permission

from tests.conftest import require_service

#: Issue 13's own Redis database number, so that other suites' keys never meet ours.
REDIS_URL = "redis://127.0.0.1:6379/3"
ALIAS = "ws_sessions"


DJANGO_REDIS = "django.core.cache.backends.redis.RedisCache"
OUR_REDIS = "apigw_ws.contrib.django.redis_cache.RedisCache"


def redis_cache(backend: str = DJANGO_REDIS) -> dict:
    return {
        "BACKEND": backend,
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"apigw_ws_i13_{uuid.uuid4().hex}",
    }


def locmem_cache() -> dict:
    return {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": f"apigw_ws_i13_{uuid.uuid4().hex}",
    }


@pytest.fixture(params=["redis", "redis-one-client", "locmem"])
def cache_kind(request):
    if request.param.startswith("redis"):
        require_service("redis", "127.0.0.1", 6379)
    return request.param


@pytest.fixture
def session_cache(settings, cache_kind):
    """Switch ``SESSION_CACHE`` on, on Redis or on a local-memory cache; return the cache."""
    from django.core.cache import caches

    backend = {
        "redis": redis_cache,
        "redis-one-client": lambda: redis_cache(OUR_REDIS),
        "locmem": locmem_cache,
    }[cache_kind]()
    settings.CACHES = {**settings.CACHES, ALIAS: backend}
    settings.APIGW_WS = {**settings.APIGW_WS, "SESSION_CACHE": ALIAS}
    yield caches[ALIAS]
    caches[ALIAS].clear()


@pytest.fixture
def with_plugins(settings):
    """Add plugins after the suite's own (each call replaces the previous extra ones)."""
    base = list(settings.APIGW_WS["PLUGINS"])

    def add(*plugins):
        settings.APIGW_WS = {**settings.APIGW_WS, "PLUGINS": [*base, *plugins]}

    return add


def perm(codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label="auth", codename=codename)
