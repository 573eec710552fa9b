"""The message path's database cost, asserted as query counts (never as times).

No write, ever; one read without ``SESSION_CACHE`` (two with a permission-guarded
handler); none with a warm cache (tests/session_cache shows every way it is kept fresh).
"""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apigw_ws.contrib.django import gateways

pytestmark = pytest.mark.django_db


def reads_and_writes(conn, body):
    """Send one message; return (response, SELECTs, other statements)."""
    with CaptureQueriesContext(connection) as ctx:
        response = conn.send(body)
    sql = [q["sql"].lstrip().upper() for q in ctx.captured_queries]
    reads = [s for s in sql if s.startswith("SELECT")]
    return response, len(reads), len(sql) - len(reads)


@pytest.fixture
def bob(ws_client, client, django_user_model):
    """Bob, connected; he may moderate through a group ("view_user") but not administer."""
    user = django_user_model.objects.create_user("bob")
    group = Group.objects.create(name="mods")
    group.permissions.add(Permission.objects.get(codename="view_user"))
    user.groups.add(group)
    client.force_login(user)
    conn = ws_client.connect()
    client.cookies.clear()
    conn.send({})  # warm the gateway cache, as any running process has
    return conn


@pytest.fixture
def cached(settings):
    settings.CACHES = {
        **settings.CACHES,
        "ws": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "q"},
    }
    settings.APIGW_WS = {**settings.APIGW_WS, "SESSION_CACHE": "ws"}


def test_without_a_cache_a_message_costs_one_read_and_no_write(bob):
    response, reads, writes = reads_and_writes(bob, {"text": "hi"})
    assert response.json()["user"] == "bob"
    assert (reads, writes) == (1, 0)


@pytest.mark.parametrize(("handler", "status"), [("moderate", 200), ("administer", 403)])
def test_without_a_cache_a_guarded_message_costs_two_reads_and_no_write(bob, handler, status):
    response, reads, writes = reads_and_writes(bob, {"handler": handler})
    assert response.status_code == status
    assert (reads, writes) == (2, 0)


@pytest.mark.parametrize(
    ("handler", "status"), [("default", 200), ("moderate", 200), ("administer", 403)]
)
def test_with_a_warm_cache_a_message_costs_no_query(cached, bob, handler, status):
    response, reads, writes = reads_and_writes(bob, {"handler": handler})
    assert response.status_code == status
    assert (reads, writes) == (0, 0)


def test_with_a_cold_cache_a_message_costs_reads_only(cached, bob):
    from django.core.cache import caches

    caches["ws"].clear()
    response, reads, writes = reads_and_writes(bob, {"handler": "moderate"})
    assert (response.status_code, reads, writes) == (200, 2, 0)


def test_gateway_lookup_is_cached_and_saving_the_row_invalidates_it(
    ws_client, ws_gateway, django_assert_num_queries
):
    conn = ws_client.connect()
    conn.send({})
    with django_assert_num_queries(0):
        assert gateways.get_gateway(ws_gateway.api_id) == ws_gateway
    ws_gateway.enabled = False
    ws_gateway.save()
    assert gateways.get_gateway(ws_gateway.api_id) is None
    assert conn.send({}).status_code == 403


def test_invalid_input_is_refused_before_any_query(ws_client, django_assert_num_queries):
    conn = ws_client.connect()
    with django_assert_num_queries(0):
        assert conn.send(b"[1, 2]").status_code == 400
        assert conn.send({"handler": "_private"}).status_code == 400
