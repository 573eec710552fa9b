"""Bad input on every route: a clear 4xx, a generic body, a log line, and nothing else.

For every refusal: the status, a body of only ``{"error": <generic text>}``, a WARNING on
the ``apigw_ws`` logger with the detail, no handler and no plugin hook called, no ERROR on
``django.request`` and no admin e-mail. The property tests at the end throw the
``apigw_ws.testing.strategies`` at every route.
"""

import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.log import AdminEmailHandler
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import apigw_ws
from apigw_ws.contrib.django.models import ApiGateway, WebSocketSession
from apigw_ws.testing import new_connection_id, strategies
from apigw_ws.validation import MAX_JSON_DEPTH, channel_name_problem
from tests.settings import TEST_GATEWAY_SECRET

pytestmark = pytest.mark.django_db

SECRET = TEST_GATEWAY_SECRET
MAX = 131072  # the default MAX_MESSAGE_BYTES
ROUTES = ["connect", "disconnect", "default", "presence"]
MESSAGE_ROUTES = ["default", "presence"]
EXISTING_SESSION_ROUTES = ["disconnect", "default", "presence"]
#: A body that selects a registered handler on each route.
VALID_BODY = {
    "connect": b"",
    "disconnect": b"",
    "default": b'{"text": "hi"}',
    "presence": b'{"handler": "status"}',
    "nosuchroute": b"{}",
}
#: Every text a client may see in an error body.
GENERIC_ERRORS = {
    "Bad request",
    "Forbidden",
    "Unknown connection",
    "Unknown handler",
    "Invalid channel",
    "Origin not allowed",
    "Payload too large",
    "Too many requests",
    "Not found",
    "Method not allowed",
}


class Spy:
    """A plugin that records every per-request hook call and decides nothing."""

    def __init__(self):
        self.calls = []

    @apigw_ws.hookimpl
    def apigw_ws_validate_message(self, context, handler, body):
        self.calls.append(("validate_message", handler.name))

    @apigw_ws.hookimpl
    def apigw_ws_check_permission(self, context, handler):
        self.calls.append(("check_permission", handler.name))

    @apigw_ws.hookimpl
    def apigw_ws_authorize_connect(self, context):
        self.calls.append(("authorize_connect", context.connection_id))

    @apigw_ws.hookimpl
    def apigw_ws_on_connect(self, session):
        self.calls.append(("on_connect", session.connection_id))

    @apigw_ws.hookimpl
    def apigw_ws_on_disconnect(self, session):
        self.calls.append(("on_disconnect", session.connection_id))


@pytest.fixture
def admin_mail(settings, mailoutbox):
    """Mail admins on any ERROR of ``django.request``, as many projects do; yield the outbox."""
    settings.ADMINS = [("Admin", "admin@example.com")]
    handler = AdminEmailHandler()
    handler.setLevel(logging.ERROR)
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield mailoutbox
    logger.removeHandler(handler)


@pytest.fixture
def spy(ws_plugins):
    spy = Spy()
    ws_plugins.add(spy)
    return spy


@pytest.fixture
def victim(ws_client, spy):
    """A connected session; the spy forgets having seen it connect."""
    conn = ws_client.connect(channel="lobby")
    assert conn.response.status_code == 200
    spy.calls.clear()
    return conn


@pytest.fixture
def refused(caplog, admin_mail, handler_calls, spy):
    """Return ``check(response, status, error, detail)`` for a request that must be refused."""
    caplog.set_level(logging.INFO, logger="apigw_ws")

    def check(response, status, error, detail):
        assert response.status_code == status, response.content
        assert response.json() == {"error": error}
        refusals = [
            r.getMessage()
            for r in caplog.records
            if r.name.startswith("apigw_ws") and r.levelno == logging.WARNING
        ]
        assert any(detail in message for message in refusals), refusals
        assert handler_calls == []
        assert spy.calls == []
        assert_no_alarm(caplog, admin_mail)

    return check


def assert_no_alarm(caplog, outbox):
    errors = [r for r in caplog.records if r.name == "django.request" and r.levelno >= 40]
    assert errors == []
    assert outbox == []


def target(victim, route):
    """Return the connection id a request on ``route`` should carry to get past the id checks."""
    return new_connection_id() if route == "connect" else victim.connection_id


# -- the gateway: secret, api id, enabled -----------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
def test_a_request_without_the_secret_is_forbidden_before_anything_is_read(
    ws_client, victim, refused, route, caplog
):
    ws_client.secret = None
    with CaptureQueriesContext(connection) as queries:
        response = ws_client.post(route, target(victim, route), body=b"{}")
    refused(response, 403, "Forbidden", "no gateway secret")
    assert queries.captured_queries == []
    assert SECRET not in caplog.text


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("secret", ["wrong", SECRET[:-1], SECRET + "x", SECRET.upper(), "é" * 40])
def test_a_request_with_a_wrong_secret_is_forbidden(
    ws_client, victim, refused, route, secret, caplog
):
    ws_client.secret = secret
    response = ws_client.post(route, target(victim, route), body=b"{}")
    refused(response, 403, "Forbidden", "missing or wrong gateway secret header")
    assert SECRET not in caplog.text
    assert secret not in response.content.decode()


@pytest.mark.parametrize("route", ROUTES)
def test_the_secret_is_checked_before_the_body_size_and_query(ws_client, victim, refused, route):
    ws_client.secret = None
    response = ws_client.post(
        route,
        target(victim, route),
        body=b"x" * (MAX + 1),
        query="a=1&" * 2000,
    )
    refused(response, 403, "Forbidden", "no gateway secret")


def test_a_forged_message_with_a_victims_connection_id_but_no_secret_never_reaches_a_handler(
    ws_client, victim, refused
):
    ws_client.secret = None
    with CaptureQueriesContext(connection) as queries:
        response = victim.send({"handler": "default", "text": "I am the victim"})
    refused(response, 403, "Forbidden", "no gateway secret")
    assert queries.captured_queries == []
    assert WebSocketSession.objects.get(connection_id=victim.connection_id).connected


def test_a_forged_disconnect_of_a_victim_without_the_secret_leaves_the_session_connected(
    ws_client, victim, refused
):
    ws_client.secret = None
    refused(victim.disconnect(), 403, "Forbidden", "no gateway secret")
    assert WebSocketSession.objects.get(connection_id=victim.connection_id).connected


def test_a_victims_connection_id_sent_through_another_gateway_finds_no_session(
    ws_client, victim, refused
):
    ApiGateway.objects.create(api_name="other", api_id="otherapi99")
    ws_client.api_id = "otherapi99"
    response = victim.send({"text": "hi"})
    refused(response, 400, "Unknown connection", "no connected session")
    assert WebSocketSession.objects.get(connection_id=victim.connection_id).connected


@pytest.mark.parametrize("route", ROUTES)
def test_an_unknown_api_id_is_forbidden(ws_client, victim, refused, route):
    ws_client.api_id = "unknownapi"
    response = ws_client.post(route, target(victim, route), body=b"{}")
    refused(response, 403, "Forbidden", "'unknownapi' is not a registered, enabled gateway")


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("api_id", "detail"),
    [
        (None, "missing X-Amzn-Apigateway-Api-Id header"),
        ("", "missing X-Amzn-Apigateway-Api-Id header"),
        ("test api", "malformed api id"),
        ("é" * 10, "malformed api id"),
        ("a" * 65, "malformed api id"),
    ],
)
def test_a_missing_or_malformed_api_id_is_a_bad_request(
    ws_client, victim, refused, route, api_id, detail
):
    response = ws_client.post(
        route,
        target(victim, route),
        body=b"{}",
        # Both headers that may carry the api id: the mapped one is read first.
        headers={"X-Amzn-Apigateway-Api-Id": api_id, "X-Apigw-Ws-Api-Id": api_id},
    )
    refused(response, 400, "Bad request", detail)


@pytest.mark.parametrize("route", ROUTES)
def test_a_disabled_gateway_is_forbidden(ws_client, victim, ws_gateway, refused, route):
    ws_gateway.enabled = False
    ws_gateway.save()
    response = ws_client.post(route, target(victim, route), body=b"{}")
    refused(response, 403, "Forbidden", "is not a registered, enabled gateway")


# -- connection ids ---------------------------------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("cid", "detail"),
    [
        ("", "missing Connectionid header"),
        ("L0SM9cOFvHcCIhw=/", "malformed connection id"),
        ("../admin", "malformed connection id"),
        ("abc def", "malformed connection id"),
        ("ÄÖÜ-connection", "malformed connection id"),
        ("A" * 129, "malformed connection id"),
        ("' OR 1=1 --", "malformed connection id"),
    ],
)
def test_a_missing_or_malformed_connection_id_is_a_bad_request(
    ws_client, refused, route, cid, detail
):
    response = ws_client.post(route, cid, body=b"{}")
    refused(response, 400, "Bad request", detail)


@pytest.mark.parametrize(
    ("route", "detail"),
    [
        ("disconnect", "disconnect of unknown connection"),
        ("default", "no connected session"),
        ("presence", "no connected session"),
    ],
)
def test_an_unknown_connection_id_is_refused(ws_client, refused, route, detail):
    response = ws_client.post(route, new_connection_id(), body=VALID_BODY[route])
    refused(response, 400, "Unknown connection", detail)


def test_connecting_with_a_connection_id_already_known_is_refused_and_notifies_no_one(
    ws_client, victim, spy, caplog, admin_mail
):
    # Only the insert can tell (the id is well formed), so authorize_connect has run.
    response = ws_client.connect(connection_id=victim.connection_id, channel="other").response
    assert response.status_code == 400
    assert response.json() == {"error": "Bad request"}
    assert "is already known" in caplog.text
    assert [name for name, _ in spy.calls] == ["authorize_connect"]
    assert_no_alarm(caplog, admin_mail)


# -- size, Content-Length and query -----------------------------------------------------


@pytest.mark.parametrize("route", ROUTES)
def test_a_body_over_max_message_bytes_is_too_large_and_never_reaches_a_handler(
    ws_client, victim, refused, route
):
    body = b'{"handler": "default", "a": "' + b"x" * MAX + b'"}'
    response = ws_client.post(route, target(victim, route), body=body)
    refused(response, 413, "Payload too large", f"Content-Length {len(body)} exceeds {MAX}")


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("length", ["abc", "1e3", "0x10"])
def test_a_malformed_content_length_is_a_bad_request(ws_client, victim, refused, route, length):
    response = ws_client.post(
        route,
        target(victim, route),
        body=b"{}",
        headers={"Content-Length": length},
    )
    refused(response, 400, "Bad request", "malformed Content-Length")


@pytest.mark.parametrize("route", ROUTES)
def test_a_query_with_more_fields_than_django_parses_is_a_bad_request(
    ws_client, victim, refused, route
):
    response = ws_client.post(route, target(victim, route), body=b"{}", query="a=1&" * 1001)
    refused(response, 400, "Bad request", "TooManyFieldsSent")


# -- message bodies ---------------------------------------------------------------------


BAD_BODIES = [
    pytest.param(b"", "body is not JSON", id="empty"),
    pytest.param(b"hello", "body is not JSON", id="text"),
    pytest.param(b"{'handler': 'default'}", "body is not JSON", id="python-repr"),
    pytest.param(b'{"handler": "default",}', "body is not JSON", id="trailing-comma"),
    pytest.param(b'[{"handler": "default"}]', "body is JSON list, not an object", id="array"),
    pytest.param(b'"default"', "body is JSON str, not an object", id="string"),
    pytest.param(b"42", "body is JSON int, not an object", id="number"),
    pytest.param(b"null", "body is JSON NoneType, not an object", id="null"),
    pytest.param(b'{"a": NaN}', "body is not JSON", id="NaN"),
    pytest.param(b'{"a": -Infinity}', "body is not JSON", id="Infinity"),
    pytest.param(b'{"a": 1e400}', "body is not JSON", id="overflowing-float"),
    pytest.param(b'{"a": ' + b"9" * 5000 + b"}", "body is not JSON", id="huge-integer"),
    pytest.param(b'{"a": "\xff"}', "body is not JSON: UnicodeDecodeError", id="invalid-utf8"),
    pytest.param(
        '{"handler": "default"}'.encode("utf-16"),
        "body is not JSON: UnicodeDecodeError",
        id="utf16",
    ),
    pytest.param(
        b'{"a":' * (MAX_JSON_DEPTH + 1) + b"1" + b"}" * (MAX_JSON_DEPTH + 1),
        "nests deeper than",
        id="deep-objects",
    ),
    pytest.param(b'{"a":' + b"[" * 927 + b"]" * 927 + b"}", "nests deeper", id="deeper"),
    pytest.param(b"[" * 50_000 + b"]" * 50_000, "body is not JSON: RecursionError", id="deepest"),
]


@pytest.mark.parametrize("route", MESSAGE_ROUTES)
@pytest.mark.parametrize(("body", "detail"), BAD_BODIES)
def test_a_body_that_is_not_a_json_object_is_a_bad_request(
    ws_client, victim, refused, route, body, detail
):
    refused(victim.send(body, route=route), 400, "Bad request", detail)


@pytest.mark.parametrize("route", MESSAGE_ROUTES)
@pytest.mark.parametrize("name", ["_private", "__init__", "__class__", "nope", "DEFAULT"])
def test_an_unknown_or_private_handler_name_is_an_unknown_handler(
    ws_client, victim, refused, route, name
):
    response = victim.send({"handler": name}, route=route)
    refused(response, 400, "Unknown handler", f"no handler {name!r} on route")


@pytest.mark.parametrize(("route", "name"), [("default", "status"), ("presence", "say")])
def test_a_handler_registered_on_another_route_is_an_unknown_handler(
    ws_client, victim, refused, route, name
):
    response = victim.send({"handler": name, "text": "hi"}, route=route)
    refused(response, 400, "Unknown handler", f"no handler {name!r} on route")


def test_a_message_without_handler_on_a_route_without_default_is_not_rerouted(
    ws_client, victim, refused
):
    response = victim.send({"text": "hi"}, route="presence")
    refused(response, 400, "Unknown handler", "no handler 'default' on route 'presence'")


@pytest.mark.parametrize("value", [None, 1, ["default"], {"name": "default"}])
def test_a_handler_key_that_is_not_a_string_is_a_bad_request(ws_client, victim, refused, value):
    response = victim.send({"handler": value})
    refused(response, 400, "Bad request", "not a string")


def test_unicode_in_a_valid_body_is_accepted(ws_client, victim, handler_calls):
    # Escapes too, except NUL and lone surrogates (tests/contrib/test_unstorable_text.py).
    response = victim.send('{"text": "héllo 🎉 \\u00e9 \\ud83c\\udf89"}'.encode())
    assert response.status_code == 200
    assert response.json()["echo"] == {"text": "héllo 🎉 é 🎉"}
    assert handler_calls == [("default", victim.connection_id)]


def test_a_message_on_a_route_with_no_handlers_is_not_found(ws_client, victim, refused):
    response = victim.send({"handler": "default"}, route="nosuchroute")
    refused(response, 404, "Not found", "no handler is registered on route 'nosuchroute'")


# ws/token is the token endpoint, not a route: tests/tokens covers it.
@pytest.mark.parametrize("route", ["$connect", "$disconnect", "Default"])
def test_route_urls_that_are_not_message_routes_are_not_found(ws_client, victim, refused, route):
    response = victim.send({"handler": "default"}, route=route)
    refused(response, 404, "Not found", "no handler is registered on route")


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_methods_other_than_post_are_not_allowed(client, route, method, caplog, admin_mail):
    response = client.generic(method, f"/ws/{route}")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json() == {"error": "Method not allowed"}
    assert_no_alarm(caplog, admin_mail)


def test_the_admin_mail_harness_would_see_an_error_on_django_request(admin_mail):
    logging.getLogger("django.request").error("Internal Server Error: /ws/default")
    assert len(admin_mail) >= 1


# -- connect: origin and channel --------------------------------------------------------


@pytest.mark.parametrize(
    "origin",
    [
        "https://testserver.evil.net",
        "https://testserver@evil.net",
        "https://evil.net",
        "http://eviltestserver",
        "null",
        "file://",
    ],
)
def test_connect_from_a_foreign_origin_is_forbidden_and_writes_no_session(
    ws_client, refused, origin
):
    conn = ws_client.connect(headers={"Origin": origin})
    refused(conn.response, 403, "Origin not allowed", f"origin {origin!r} is not allowed")
    assert not WebSocketSession.objects.filter(connection_id=conn.connection_id).exists()


@pytest.mark.parametrize(
    "channel", ["c" * 129, "lobby room", "lobby/../admin", "lobby;", "lobbÿ", "lobby\t"]
)
def test_connect_to_an_invalid_channel_is_a_bad_request_and_writes_no_session(
    ws_client, refused, channel
):
    conn = ws_client.connect(channel=channel)
    refused(conn.response, 400, "Invalid channel", "invalid channel name")
    assert not WebSocketSession.objects.exists()


def test_connect_to_a_channel_of_128_characters_is_accepted(ws_client):
    conn = ws_client.connect(channel="c" * 128)
    assert conn.response.status_code == 200
    assert WebSocketSession.objects.get().channel_name == "c" * 128


# -- a handler bug: the only 5xx --------------------------------------------------------


def assert_handler_bug_answered_generically(response, caplog, outbox):
    assert response.status_code == 500
    assert response.json() == {"error": "Internal error"}
    text = response.content.decode()
    for leak in ("hunter2", "Traceback", "RuntimeError", "TypeError", "explode", ".py"):
        assert leak not in text
    logged = [r for r in caplog.records if r.name.startswith("apigw_ws") and r.levelno >= 40]
    assert len(logged) == 1
    assert logged[0].exc_info is not None
    assert_no_alarm(caplog, outbox)


def test_a_handler_that_raises_answers_a_generic_500_logged_once_and_mails_no_one(
    ws_client, victim, caplog, admin_mail
):
    caplog.set_level(logging.INFO)
    response = victim.send({"handler": "explode"})
    assert_handler_bug_answered_generically(response, caplog, admin_mail)
    [logged] = [r for r in caplog.records if r.levelno >= 40]
    assert "'explode'" in logged.getMessage()
    assert "hunter2" in str(logged.exc_info[1])  # the detail is in the log, only there


class Unencodable:
    @apigw_ws.handler(route="weird")
    def unencodable(ctx):
        return {"a set": {1, 2}}

    @apigw_ws.hookimpl
    def apigw_ws_register_handlers(self, register):
        register(Unencodable.unencodable)


def test_a_handler_returning_what_json_cannot_encode_is_a_handler_bug_not_an_alarm(
    ws_client, victim, ws_plugins, caplog, admin_mail
):
    ws_plugins.add(Unencodable())
    caplog.set_level(logging.INFO)
    response = victim.send({"handler": "unencodable"}, route="weird")
    assert_handler_bug_answered_generically(response, caplog, admin_mail)


class Broken:
    """A plugin whose every per-request hook raises: a plugin bug, not bad input."""

    def __init__(self, hook):
        self.hook = hook

    def _fail(self):
        raise RuntimeError("plugin bug hunter2")

    @apigw_ws.hookimpl
    def apigw_ws_authorize_connect(self, context):
        if self.hook == "authorize_connect":
            self._fail()

    @apigw_ws.hookimpl
    def apigw_ws_validate_message(self, context, handler, body):
        if self.hook == "validate_message":
            self._fail()

    @apigw_ws.hookimpl
    def apigw_ws_check_permission(self, context, handler):
        if self.hook == "check_permission":
            self._fail()

    @apigw_ws.hookimpl
    def apigw_ws_token_backend(self):
        if self.hook == "token_backend":
            return self

    @apigw_ws.hookimpl
    def apigw_ws_rate_limit_store(self):
        if self.hook == "rate_limit_store":
            return self

    def authenticate(self, context):
        self._fail()

    def hit(self, key, *, limit, window):
        self._fail()


@pytest.mark.parametrize("hook", ["authorize_connect", "token_backend", "rate_limit_store"])
def test_a_plugin_hook_that_raises_on_connect_answers_a_generic_500_and_writes_no_session(
    ws_client, ws_plugins, caplog, admin_mail, hook
):
    ws_plugins.add(Broken(hook))
    caplog.set_level(logging.INFO)
    conn = ws_client.connect(channel="lobby")
    assert_handler_bug_answered_generically(conn.response, caplog, admin_mail)
    assert not WebSocketSession.objects.exists()


@pytest.mark.parametrize("hook", ["validate_message", "check_permission"])
def test_a_guard_hook_that_raises_on_a_message_answers_a_generic_500_and_runs_no_handler(
    ws_client, victim, ws_plugins, caplog, admin_mail, handler_calls, hook
):
    ws_plugins.add(Broken(hook))
    caplog.set_level(logging.INFO)
    response = victim.send({"text": "hi"})
    assert_handler_bug_answered_generically(response, caplog, admin_mail)
    assert handler_calls == []


class CountingStore:
    """A rate-limit store that counts attempts and never refuses."""

    def __init__(self):
        self.keys = []

    @apigw_ws.hookimpl
    def apigw_ws_rate_limit_store(self):
        return self

    def hit(self, key, *, limit, window):
        self.keys.append(key)
        return 0


@pytest.mark.parametrize(
    ("query", "origin"),
    [({"channel": "bad channel!"}, None), ({"channel": "lobby"}, "https://evil.example")],
)
def test_connects_refused_for_their_channel_or_origin_still_count_against_the_rate_limit(
    ws_client, ws_plugins, query, origin
):
    store = CountingStore()
    ws_plugins.add(store)
    if origin:
        ws_client.origin = origin
    conn = ws_client.connect(**query)
    assert conn.response.status_code in (400, 403)
    assert len(store.keys) == 1
    assert store.keys[0].startswith("connect:ip:")


# -- properties over every route --------------------------------------------------------

PROPERTY = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ALL_ROUTES = [*ROUTES, "nosuchroute"]


@pytest.fixture
def fuzz(ws_client, ws_gateway, caplog, admin_mail, handler_calls, spy):
    """Return ``send(route, **post_kwargs)``: one request with a fresh session where one is needed.

    It asserts what must hold for any input: below 500, and an error body of only a
    generic ``error`` text, no ERROR on ``django.request``, no admin mail.
    """
    caplog.set_level(logging.INFO, logger="apigw_ws")

    def send(route, connection_id=None, **kwargs):
        caplog.clear()
        handler_calls.clear()
        spy.calls.clear()
        if connection_id is None:
            connection_id = new_connection_id()
            if route != "connect":
                WebSocketSession.objects.create(connection_id=connection_id, api_gateway=ws_gateway)
        response = ws_client.post(route, connection_id, **kwargs)
        assert response.status_code < 500, response.content
        if response.status_code >= 400:
            body = response.json()
            assert list(body) == ["error"]
            assert body["error"] in GENERIC_ERRORS
        assert_no_alarm(caplog, admin_mail)
        return response

    return send


@PROPERTY
@given(route=st.sampled_from(ALL_ROUTES), body=strategies.hostile_bodies())
def test_any_hostile_body_is_refused_with_a_generic_4xx_on_every_route(
    fuzz, handler_calls, spy, route, body
):
    response = fuzz(route, body=body)
    if route not in ("connect", "disconnect"):  # those ignore the body, beyond its size
        assert 400 <= response.status_code < 500
        assert handler_calls == spy.calls == []


@PROPERTY
@given(route=st.sampled_from(ALL_ROUTES), headers=strategies.hostile_headers())
def test_any_hostile_headers_get_a_generic_answer_below_500_on_every_route(fuzz, route, headers):
    fuzz(route, body=VALID_BODY[route], headers=headers)


@PROPERTY
@given(route=st.sampled_from(ALL_ROUTES), query=strategies.hostile_queries())
def test_any_hostile_query_gets_a_generic_answer_below_500_on_every_route(fuzz, route, query):
    fuzz(route, body=VALID_BODY[route], query=query)


@PROPERTY
@given(route=st.sampled_from(ALL_ROUTES), cid=strategies.bad_connection_ids())
def test_any_malformed_connection_id_is_a_bad_request_on_every_route(
    fuzz, handler_calls, spy, route, cid
):
    response = fuzz(route, connection_id=cid, body=b"{}")
    assert response.status_code == 400
    assert handler_calls == spy.calls == []


@PROPERTY
@given(route=st.sampled_from(EXISTING_SESSION_ROUTES), cid=strategies.connection_ids())
def test_any_unknown_connection_id_is_refused_on_routes_that_need_a_session(
    fuzz, handler_calls, spy, route, cid
):
    response = fuzz(route, connection_id=cid, body=VALID_BODY[route])
    assert response.json() == {"error": "Unknown connection"}
    assert handler_calls == spy.calls == []


@PROPERTY
@given(
    route=st.sampled_from(ROUTES),
    secret=st.none() | st.text(st.characters(codec="latin-1", exclude_characters="\r\n\0")),
    body=strategies.hostile_bodies() | strategies.message_bodies(names=["default", "status"]),
    headers=strategies.hostile_headers(),
    query=strategies.hostile_queries(),
)
def test_without_the_right_secret_any_request_is_forbidden_and_writes_nothing(
    fuzz, victim, handler_calls, spy, route, secret, body, headers, query
):
    with CaptureQueriesContext(connection) as queries:
        response = fuzz(
            route,
            connection_id=victim.connection_id,
            body=body,
            query=query,
            headers={**headers, "X-Apigw-Ws-Secret": secret},
        )
    assert response.status_code == 403
    writes = [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert writes == []
    assert handler_calls == spy.calls == []
    assert WebSocketSession.objects.get(connection_id=victim.connection_id).connected


NAMES = ["default", "status", "moderate", "administer", "_private", "__init__", "nope", "say "]
REGISTERED = {("default", "default"), ("presence", "status")}


@PROPERTY
@given(
    route=st.sampled_from(MESSAGE_ROUTES),
    body=strategies.message_bodies(names=NAMES),
)
def test_a_message_only_ever_reaches_the_handler_it_names_on_its_route(
    fuzz, handler_calls, route, body
):
    response = fuzz(route, body=body)
    name = body.get("handler", "default")
    channel = body.get("channel", "")
    bad_channel = not isinstance(channel, str) or bool(channel_name_problem(channel))
    if (route, name) in REGISTERED and "channel" in body and bad_channel:
        # The built-in validators refuse a message whose ``channel`` is no channel name.
        assert response.json() == {"error": "Bad request"}
        assert handler_calls == []
    elif (route, name) in REGISTERED:
        assert response.status_code in (200, 202)
        assert [call for call, _ in handler_calls] == [{"status": "presence"}.get(name, name)]
    elif name in ("moderate", "administer") and route == "default":
        assert response.json() == {"error": "Forbidden"}  # anonymous: no permission
        assert handler_calls == []
    else:
        assert response.json() == {"error": "Unknown handler"}
        assert handler_calls == []
