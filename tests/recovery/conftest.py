import uuid

import pytest

from tests.conftest import require_service

RECOVERY_PLUGIN = "apigw_ws.builtin_plugins.recovery"
#: Issue 16's own Redis database, so parallel suites never share keys.
REDIS_URL = "redis://127.0.0.1:6379/6"


@pytest.fixture
def recovery(settings):
    """Switch the recovery plugin on (database store); return a setter for RECOVERY."""
    base = dict(settings.APIGW_WS)

    def configure(**options):
        settings.APIGW_WS = {
            **base,
            "PLUGINS": [*base["PLUGINS"], RECOVERY_PLUGIN],
            "RECOVERY": options,
        }

    configure()
    return configure


@pytest.fixture
def redis_cache(settings):
    """Point the "default" cache at the real Redis, under a key prefix of this test's own."""
    require_service("redis", "127.0.0.1", 6379)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"apigw_ws_i16_{uuid.uuid4().hex}",
        }
    }
    from django.core.cache import caches

    yield caches["default"]
    caches["default"].clear()
