"""Connects are counted per trusted source IP and per user; refusals are 429s, logged."""

import logging

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

import apigw_ws
from apigw_ws.contrib.django.models import RateLimitCounter, WebSocketSession

pytestmark = pytest.mark.django_db


def connect_from(ws_client, ip, **kwargs):
    ws_client.source_ip = ip
    return ws_client.connect(**kwargs).response


def test_the_connect_over_the_limit_gets_429_with_retry_after_and_no_session(
    rate_limited, ws_client, caplog
):
    statuses = [connect_from(ws_client, "198.51.100.5").status_code for _ in range(3)]
    with caplog.at_level(logging.WARNING, logger="apigw_ws"):
        refused = connect_from(ws_client, "198.51.100.5")
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.json() == {"error": "Too many requests"}
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert WebSocketSession.objects.count() == 3
    assert "connect rate limit reached for connect:ip:198.51.100.5" in caplog.text


def test_without_the_plugin_nothing_is_counted(ws_client):
    for _ in range(25):
        assert connect_from(ws_client, "198.51.100.5").status_code == 200
    assert not RateLimitCounter.objects.exists()


def test_a_spoofed_x_forwarded_for_neither_escapes_nor_spends_anothers_limit(
    rate_limited, ws_client
):
    ws_client.source_ip = "198.51.100.5"
    for n in range(3):
        spoof = {"X-Forwarded-For": f"10.0.0.{n}, 198.51.100.5"}
        assert ws_client.connect(headers=spoof).response.status_code == 200
    blocked = ws_client.connect(headers={"X-Forwarded-For": "10.9.9.9"}).response
    assert blocked.status_code == 429
    # The addresses the client wrote into X-Forwarded-For were never counted.
    assert list(RateLimitCounter.objects.values_list("key", flat=True)) == [
        "connect:ip:198.51.100.5"
    ]
    assert connect_from(ws_client, "198.51.100.6").status_code == 200


def test_ipv6_clients_are_counted_per_64_network(rate_limited, ws_client):
    for host in range(1, 4):
        assert connect_from(ws_client, f"2001:db8:1:2::{host}").status_code == 200
    assert connect_from(ws_client, "2001:db8:1:2:ffff::9").status_code == 429
    assert connect_from(ws_client, "2001:db8:1:3::1").status_code == 200


def test_a_user_is_limited_across_source_ips(rate_limited, ws_client, client, django_user_model):
    client.force_login(django_user_model.objects.create_user("mallory"))
    for n in range(3):
        assert connect_from(ws_client, f"198.51.100.{n}").status_code == 200
    refused = connect_from(ws_client, "198.51.100.99")
    assert refused.status_code == 429
    assert WebSocketSession.objects.count() == 3
    user = django_user_model.objects.get()
    # The refused attempt's count was rolled back with the rest of its connect
    # transaction (the one that would spend a token): the limit still holds.
    assert RateLimitCounter.objects.get(key=f"connect:user:{user.pk}").count == 3
    assert connect_from(ws_client, "198.51.100.98").status_code == 429


def test_refused_attempts_count_so_probing_is_not_free(rate_limited, ws_client):
    ws_client.source_ip = "198.51.100.5"
    for _ in range(3):
        response = ws_client.connect(headers={"Origin": "https://evil.example"}).response
        assert response.status_code == 403
    # Over the limit the rate limit answers first, before the origin is even looked at.
    assert ws_client.connect(headers={"Origin": "https://evil.example"}).response.status_code == 429
    assert ws_client.connect().response.status_code == 429


def test_the_cache_store_limits_connects_on_redis(rate_limited, settings, redis_caches, ws_client):
    settings.CACHES = redis_caches
    rate_limited(STORE="cache")
    statuses = [connect_from(ws_client, "198.51.100.5").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert not RateLimitCounter.objects.exists()


class RecordingStore:
    def __init__(self):
        self.keys = []

    def hit(self, key, *, limit, window):
        self.keys.append((key, limit, window))
        return 7 if len(self.keys) > 1 else 0


class ThirdPartyStorePlugin:
    def __init__(self):
        self.store = RecordingStore()

    @apigw_ws.hookimpl
    def apigw_ws_rate_limit_store(self):
        return self.store


def test_a_third_party_plugin_replaces_the_built_in_store(rate_limited, ws_client, ws_plugins):
    plugin = ThirdPartyStorePlugin()
    loaded = ws_plugins.add(plugin, name="third_party_store")
    assert loaded.rate_limit_store is plugin.store
    assert connect_from(ws_client, "198.51.100.5").status_code == 200
    refused = connect_from(ws_client, "198.51.100.5")
    assert (refused.status_code, refused["Retry-After"]) == (429, "7")
    assert plugin.store.keys[0] == ("connect:ip:198.51.100.5", 3, 60)
    assert not RateLimitCounter.objects.exists()


class BrokenStorePlugin:
    class Store:
        def hit(self, key, *, limit, window):
            raise RuntimeError("store down")

    @apigw_ws.hookimpl
    def apigw_ws_rate_limit_store(self):
        return self.Store()


def test_a_failing_store_answers_a_generic_500_without_details(rate_limited, ws_client, ws_plugins):
    ws_plugins.add(BrokenStorePlugin(), name="broken_store")
    response = connect_from(ws_client, "198.51.100.5")
    assert response.status_code == 500
    assert response.json() == {"error": "Internal error"}
    assert not WebSocketSession.objects.exists()


ips = st.one_of(st.ip_addresses().map(str), st.text(max_size=60))


@hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(mapped=ips, forwarded=st.text(max_size=200), count=st.integers(1, 6))
def test_a_flood_with_hostile_ip_headers_gets_200_or_4xx_and_bounded_counters(
    rate_limited, ws_client, mapped, forwarded, count
):
    RateLimitCounter.objects.all().delete()
    statuses = []
    for _ in range(count):
        headers = {"X-Apigw-Ws-Source-Ip": mapped, "X-Forwarded-For": forwarded}
        statuses.append(ws_client.connect(headers=headers).response.status_code)
    assert all(s == 200 or 400 <= s < 500 for s in statuses)
    assert statuses.count(200) <= 3
    # One key for the (mapped or REMOTE_ADDR) address, whatever X-Forwarded-For said.
    assert RateLimitCounter.objects.count() == 1
