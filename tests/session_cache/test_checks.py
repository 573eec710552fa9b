"""``SESSION_CACHE`` is validated: a type error, an unknown alias, a cache not every
process shares."""

import pytest
from django.core import checks

from .conftest import ALIAS, locmem_cache, redis_cache


def ids(settings, cache=None, value=ALIAS):
    if cache is not None:
        settings.CACHES = {**settings.CACHES, ALIAS: cache}
    settings.APIGW_WS = {**settings.APIGW_WS, "SESSION_CACHE": value}
    return sorted(m.id for m in checks.run_checks() if m.id.startswith("apigw_ws."))


def test_no_session_cache_is_the_default_and_silent(settings):
    assert ids(settings, value=None) == []


def test_redis_passes(settings):
    assert ids(settings, redis_cache()) == []


def test_a_local_memory_cache_warns_w050(settings):
    assert ids(settings, locmem_cache()) == ["apigw_ws.W034"]
    (warning,) = [m for m in checks.run_checks() if m.id == "apigw_ws.W034"]
    assert "per process" in warning.msg
    assert "RedisCache" in warning.hint


@pytest.mark.parametrize(
    "backend",
    ["django.core.cache.backends.dummy.DummyCache", "django.core.cache.backends.db.DatabaseCache"],
)
def test_caches_that_store_nothing_or_query_warn_w050(settings, backend):
    assert ids(settings, {"BACKEND": backend, "LOCATION": "t"}) == ["apigw_ws.W034"]


def test_an_alias_not_in_caches_is_error_e050(settings):
    assert ids(settings, value="nowhere") == ["apigw_ws.E034"]


@pytest.mark.parametrize("value", ["", 3, ["default"]])
def test_a_value_that_is_no_alias_is_error_e002(settings, value):
    assert ids(settings, value=value) == ["apigw_ws.E002"]
