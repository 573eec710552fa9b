"""The hot path's database cost, asserted as query counts (never as times)."""

import pytest

from apigw_ws.contrib.django import gateways

pytestmark = pytest.mark.django_db


def test_a_message_costs_one_query_on_postgresql_and_sqlite(
    ws_client, client, django_user_model, django_assert_num_queries
):
    client.force_login(django_user_model.objects.create_user("bob"))
    conn = ws_client.connect()
    client.logout()
    conn.send({})  # warm the gateway cache, as any running process has
    # SQLite >= 3.35 (every Python this package supports ships one) has UPDATE ... RETURNING.
    with django_assert_num_queries(1):
        response = conn.send({"text": "hi"})
    assert response.json()["user"] == "bob"


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
