"""The message path's read: compiled by the ORM once, run again with new values."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apigw_ws.contrib.django import session_cache as sc
from apigw_ws.contrib.django.compiled import CompiledQuery
from apigw_ws.contrib.django.models import WebSocketSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="pw", email="a@example.com")


def make_session(gateway, connection_id, user=None, **fields):
    return WebSocketSession.objects.create(
        connection_id=connection_id, api_gateway=gateway, user=user, **fields
    )


def test_the_compiled_read_gives_what_the_orm_gives(ws_gateway, alice):
    made = make_session(ws_gateway, "cid-1=", alice, channel_name="lobby", source_ip="::1")
    with CaptureQueriesContext(connection) as queries:
        session = WebSocketSession.objects.for_message("cid-1=", ws_gateway)
    assert len(queries.captured_queries) == 1
    orm = WebSocketSession.objects.select_related("user").get(pk=made.pk)
    for name in sc.layout().session_fields:
        assert getattr(session, name) == getattr(orm, name), name
    assert session.connected_at.tzinfo is not None  # the database converters ran
    for name in sc.layout().user_fields:
        assert getattr(session.user, name) == getattr(orm.user, name), name
    assert session.api_gateway is ws_gateway


def test_each_call_uses_its_own_values(ws_gateway, alice, django_user_model):
    bob = django_user_model.objects.create_user("bob")
    make_session(ws_gateway, "a=", alice)
    make_session(ws_gateway, "b=", bob)
    make_session(ws_gateway, "c=")
    make_session(ws_gateway, "gone=", alice, connected=False)
    read = WebSocketSession.objects.for_message
    assert read("a=", ws_gateway).user.username == "alice"
    assert read("b=", ws_gateway).user.username == "bob"
    assert read("c=", ws_gateway).user is None
    assert read("gone=", ws_gateway) is None
    assert read("nobody=", ws_gateway) is None


def test_a_session_of_another_gateway_is_not_read(ws_gateway, alice):
    from apigw_ws.contrib.django.models import ApiGateway

    other = ApiGateway.objects.create(api_name="other", api_id="otherapi99", region="us-east-1")
    make_session(other, "x=", alice)
    assert WebSocketSession.objects.for_message("x=", ws_gateway) is None
    assert WebSocketSession.objects.for_message("x=", other).connection_id == "x="


def test_a_marker_the_orm_rewrites_falls_back_to_the_orm_and_stays_right(ws_gateway, alice):
    make_session(ws_gateway, "abc=", alice)
    make_session(ws_gateway, "abd=", alice)
    # startswith escapes and extends its value ("abc%"): the marker is not a parameter.
    query = CompiledQuery(
        lambda prefix: (
            WebSocketSession.objects.filter(connection_id__startswith=prefix)
            .order_by("connection_id")
            .values_list("connection_id")
        ),
        markers=("\x00marker\x00",),
    )
    assert query.rows("abc", using="default") == [["abc="]]
    assert query.rows("ab", using="default") == [["abc="], ["abd="]]
    assert query._compiled["default"] is None  # compiled: no; right: yes


def test_the_sql_is_compiled_once_per_database(ws_gateway, alice, monkeypatch):
    make_session(ws_gateway, "once=", alice)
    WebSocketSession.objects.for_message("once=", ws_gateway)
    built = []
    lay = sc.layout()
    real = lay.by_connection._build
    monkeypatch.setattr(lay.by_connection, "_build", lambda *a: built.append(a) or real(*a))
    for _ in range(3):
        assert WebSocketSession.objects.for_message("once=", ws_gateway) is not None
    assert built == []


@pytest.mark.django_db(transaction=True)
def test_threads_share_one_compiled_read_and_each_reads_its_own_session(ws_gateway, alice):
    import threading

    for n in range(4):
        make_session(ws_gateway, f"t{n}=", alice)
    query = sc.layout().by_connection
    found = {}

    def read(n):
        from django.db import connection as thread_connection

        try:
            found[n] = WebSocketSession.objects.for_message(f"t{n}=", ws_gateway).connection_id
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=read, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found == {n: f"t{n}=" for n in range(4)}
    # One entry per database, however many threads (and connections) came and went.
    assert list(query._compiled) == ["default"]
