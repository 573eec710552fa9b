"""The hypothesis strategies yield what they promise, proven against the real view."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import apigw_ws
from apigw_ws.handlers import HANDLER_NAME_RE
from apigw_ws.schema import problems
from apigw_ws.testing import new_connection_id
from apigw_ws.testing import strategies as ws_st
from apigw_ws.validation import CONNECTION_ID_RE, channel_name_problem
from tests.plugins import chat
from tests.settings import TEST_GATEWAY_SECRET

FIXTURES = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

SCHEMA = {
    "type": "object",
    "properties": {
        "text": {"type": "string", "minLength": 1, "maxLength": 20},
        "n": {"type": "integer", "minimum": 0, "maximum": 9},
        "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "maxItems": 3},
        "size": {"type": ["number", "null"], "minimum": 0.5},
    },
    "required": ["text"],
}


@apigw_ws.handler(name="notes.add", route="notes", schema=SCHEMA, max_bytes=600)
def add(ctx):
    return {"ok": True}


class NotesPlugin:
    @apigw_ws.hookimpl
    def apigw_ws_register_handlers(self, register):
        register(add)


@given(ws_st.from_schema(SCHEMA))
def test_from_schema_values_match_the_schema(value):
    assert problems(SCHEMA, value) == []


@given(ws_st.bodies_for(add))
def test_bodies_for_name_the_handler_and_its_route_and_fit_its_limits(body):
    assert (body["handler"], body["action"]) == ("notes.add", "notes")
    assert problems(SCHEMA, body) == []
    assert len(json.dumps(body).encode()) <= 600


@given(ws_st.bad_connection_ids())
def test_bad_connection_ids_are_never_valid(cid):
    assert not CONNECTION_ID_RE.fullmatch(cid)


@given(ws_st.bad_channel_names())
def test_bad_channel_names_are_never_valid(name):
    assert channel_name_problem(name)


@given(ws_st.bad_handler_names())
def test_bad_handler_names_are_never_valid(name):
    assert not HANDLER_NAME_RE.fullmatch(name)


@pytest.mark.django_db
@FIXTURES
@given(body=ws_st.bodies_for(add))
def test_every_body_for_a_handler_passes_its_validators_and_reaches_it(ws_client, ws_plugins, body):
    ws_plugins.add(NotesPlugin(), name="notes")
    ws_client.connect().send(body).assert_ok({"ok": True})


@pytest.mark.django_db
@FIXTURES
@given(body=st.one_of(ws_st.json_objects(), ws_st.bodies_for(add)), data=st.data())
def test_a_body_the_schema_refuses_never_reaches_the_handler(ws_client, ws_plugins, body, data):
    ws_plugins.add(NotesPlugin(), name="notes")
    body = {
        **body,
        "handler": "notes.add",
        "action": "notes",
        "text": data.draw(st.sampled_from(["", 5, None])),
    }
    ws_client.connect().send(body).assert_refused(400, "Bad request")


@pytest.mark.django_db
@FIXTURES
@given(data=st.data(), route=st.sampled_from(["connect", "default", "presence", "disconnect"]))
def test_well_formed_gateway_requests_are_answered_2xx(ws_client, data, route):
    # Hypothesis repeats ids across examples, which share one database: fresh ones here.
    cid = new_connection_id() if route == "connect" else ws_client.connect().connection_id
    bodies = st.just({"handler": "status"}) if route == "presence" else chat_default_bodies()
    request = data.draw(
        ws_st.gateway_requests(route, secret=TEST_GATEWAY_SECRET, connection_id=cid, bodies=bodies)
    )
    ws_client.post_request(request).assert_ok()


def chat_default_bodies():
    return ws_st.message_bodies().map(lambda b: {**b, "handler": "default"})


@pytest.mark.django_db
@FIXTURES
@given(data=st.data(), route=st.sampled_from(["connect", "default", "disconnect"]))
def test_malformed_gateway_requests_never_get_a_server_error(ws_client, data, route):
    cid = ws_client.connect().connection_id if route != "connect" else None
    request = data.draw(
        ws_st.malformed_requests(route, secret=TEST_GATEWAY_SECRET, connection_id=cid)
    )
    response = ws_client.post_request(request)
    assert response.status_code < 500
    if response.status_code >= 400:
        assert set(response.data) == {"error"}


@pytest.mark.django_db
@FIXTURES
@given(user=ws_st.users(["auth.view_user"], is_active=st.booleans()))
def test_users_hold_the_permissions_and_the_permission_hook_decides_by_them(ws_client, user):
    response = ws_client.connect(user=user).send("moderate")
    if user.is_active:
        response.assert_ok({"ok": True})
    else:  # Django refuses to log an inactive user in: the connection is anonymous
        response.assert_refused(403)
    assert [name for name, _ in chat.CALLS] == (["moderate"] if user.is_active else [])
