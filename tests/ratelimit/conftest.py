import uuid

import pytest

from tests.conftest import require_service

REDIS_URL = "redis://127.0.0.1:6379/0"


def plugins_with(*extra):
    from django.conf import settings

    return [*settings.APIGW_WS["PLUGINS"], *extra]


@pytest.fixture
def redis_caches():
    """A CACHES setting on the real Redis, under a key prefix of its own for this test."""
    require_service("redis", "127.0.0.1", 6379)
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"apigw_ws_h5b_{uuid.uuid4().hex}",
        }
    }


@pytest.fixture
def rate_limited(settings):
    """Switch the built-in rate-limit plugin on with 3 attempts per 60 s; return a setter."""

    base = dict(settings.APIGW_WS)
    plugins = plugins_with("apigw_ws.builtin_plugins.ratelimit")

    def configure(**rate_limit):
        settings.APIGW_WS = {
            **base,
            "PLUGINS": plugins,
            "RATE_LIMIT": {"MAX_ATTEMPTS": 3, "WINDOW_SECONDS": 60, **rate_limit},
        }

    configure()
    return configure
