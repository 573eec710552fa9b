import uuid

import pytest
from django.contrib.auth.models import Permission

from tests.conftest import require_service

#: Issue 13's own Redis database number, so that other suites' keys never meet ours.
REDIS_URL = "redis://127.0.0.1:6379/3"
ALIAS = "ws_sessions"


def redis_cache() -> dict:
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"apigw_ws_i13_{uuid.uuid4().hex}",
    }


def locmem_cache() -> dict:
    return {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": f"apigw_ws_i13_{uuid.uuid4().hex}",
    }


@pytest.fixture(params=["redis", "locmem"])
def cache_kind(request):
    if request.param == "redis":
        require_service("redis", "127.0.0.1", 6379)
    return request.param


@pytest.fixture
def session_cache(settings, cache_kind):
    """Switch ``SESSION_CACHE`` on, on Redis or on a local-memory cache; return the cache."""
    from django.core.cache import caches

    backend = redis_cache() if cache_kind == "redis" else locmem_cache()
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
