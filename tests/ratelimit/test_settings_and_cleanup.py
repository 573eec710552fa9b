"""RATE_LIMIT and CHANNELS are validated key by key; ws_cleanup prunes the counters."""

import json
import time

import pytest
from django.core.management import call_command

from apigw_ws.contrib.django.checks import validate
from apigw_ws.contrib.django.models import RateLimitCounter


def ids(problems):
    return sorted(p.id for p in problems)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"STORE": "redis"}, ["E030"]),
        ({"MAX_ATTEMPTS": 0}, ["E030"]),
        ({"WINDOW_SECONDS": True}, ["E030"]),
        ({"CACHE_ALIAS": ""}, ["E030"]),
        ({"MAX_ATTEMPT": 5}, ["W030"]),
        ({"STORE": "cache", "MAX_ATTEMPTS": 5, "WINDOW_SECONDS": 10, "CACHE_ALIAS": "rl"}, []),
    ],
)
def test_rate_limit_keys_are_validated(value, expected):
    assert ids(validate({"RATE_LIMIT": value})) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [({"ALLOW_UNLISTED": "no"}, ["E031"]), ({"DEFAULT": True}, ["W031"]), ({}, [])],
)
def test_channel_keys_are_validated(value, expected):
    assert ids(validate({"CHANNELS": value})) == expected


@pytest.mark.django_db
def test_ws_cleanup_deletes_only_ended_rate_limit_windows(capsys):
    now = int(time.time())
    RateLimitCounter.objects.create(key="old", count=5, window_end=now - 1)
    RateLimitCounter.objects.create(key="live", count=5, window_end=now + 60)
    call_command("ws_cleanup", "--only", "rate_limits", "--json")
    assert json.loads(capsys.readouterr().out) == [{"table": "rate_limits", "deleted": 1}]
    assert list(RateLimitCounter.objects.values_list("key", flat=True)) == ["live"]


def test_a_cache_store_on_a_per_process_cache_is_warned_about(settings):
    from apigw_ws.contrib.django.checks import check_rate_limit_cache

    settings.APIGW_WS = {**settings.APIGW_WS, "RATE_LIMIT": {"STORE": "cache"}}
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [m.id for m in check_rate_limit_cache()] == ["apigw_ws.W032"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
    assert check_rate_limit_cache() == []
    settings.APIGW_WS = {**settings.APIGW_WS, "RATE_LIMIT": {"STORE": "cache", "CACHE_ALIAS": "x"}}
    assert [m.id for m in check_rate_limit_cache()] == ["apigw_ws.E032"]
